import Foundation
import LightFMKit

/// Says on standard error that the first line of `path` was skipped as a header.
func noteSkippedHeader(_ header: [String]?, line: Int?, path: String) {
  guard let header, let line else { return }
  Console.note(
    "note: \(path):\(line): skipped the first line as a header: "
      + header.joined(separator: " | ") + " (pass a file without it if it was data)")
}

// MARK: - Interactions

/// What the progress line says while a text file's bytes are parsed.
func parsing(_ bytes: [UInt8]) -> String {
  "parsing " + String(format: "%.1f", Double(bytes.count) / 1e6) + " MB"
}

/// An interactions file as read: delimited text, or a scipy sparse matrix whose row and column
/// indices are the user and item ids.
struct InteractionInput {
  let path: String
  let isMatrix: Bool
  /// One record per line (text) or stored entry (matrix; `line` is the 1-based entry number).
  let records: [InteractionRecord]
  /// Whether the records carry a third column (always true for a matrix: its values).
  let hasValues: Bool

  /// Reads `path` (`-` for standard input; a pipe works too). An `.npz` is told from text by
  /// its first bytes, not its name.
  init(path: String) throws {
    let content = try readInput(path)
    if case .archive(let file) = content {
      // One record (two id strings, a value, a line) per stored entry, besides the matrix:
      // judged from the archive's headers before any data is read.
      let size = try NPZ.sparseMatrixSize(from: URL(fileURLWithPath: file))
      try LoadLimits.default.require(
        count: size.nnz, size: MemoryLayout<InteractionRecord>.stride + 32,
        "\(path): \(size.nnz) interactions")
    }
    if let matrix = try content.sparseMatrix() {
      self.path = path
      isMatrix = true
      hasValues = true
      records = (0..<matrix.nnz).map { n in
        let e = matrix[entry: n]
        return InteractionRecord(
          user: String(e.row), item: String(e.column), value: e.value, line: n + 1)
      }
    } else {
      let (bytes, name) = try content.text(expecting: "user<sep>item lines")
      self.path = name
      let file = try ProgressLine.elapsed("loading \(name)", parsing(bytes)) {
        try DelimitedText.parseInteractions(bytes, file: name)
      }
      noteSkippedHeader(file.header, line: file.headerLine, path: name)
      isMatrix = false
      hasValues = file.columnCount >= 3
      records = file.records
    }
  }

  /// Where a record came from, for messages: `file:line` or `file: entry n`.
  func location(_ record: InteractionRecord) -> String {
    isMatrix ? "\(path): entry \(record.line)" : "\(path):\(record.line)"
  }

  /// The (user, item, weight) triples to train or evaluate on.
  ///
  /// With `minRating`, the third column is a rating: lines rated at least `minRating` are kept
  /// with weight 1, the others dropped. Without it, the third column (if any) is the weight.
  /// - Throws: `LightFMError` when `minRating` is given but there is no rating column, or a
  ///   weight is negative (naming the file and line).
  func positives(minRating: Float?) throws -> [InteractionRecord] {
    if let minRating {
      guard hasValues else {
        throw LightFMError(
          .parse,
          "\(path): --min-rating needs a rating in the third column, but the lines have only "
            + "user and item")
      }
      return records.compactMap { r in
        guard let v = r.value, v >= minRating else { return nil }
        var kept = r
        kept.value = 1
        return kept
      }
    }
    return try records.map { r in
      var kept = r
      let weight = r.value ?? 1
      guard weight >= 0 else {
        throw LightFMError(
          .parse,
          "\(location(r)): weight \(weight) is negative: weights must be >= 0 (pass --min-rating "
            + "to read the third column as ratings)")
      }
      kept.value = weight
      return kept
    }
  }
}

extension InteractionInput {
  /// `positives(minRating:)` for training: a file without a positive is an error.
  func trainingPositives(minRating: Float?) throws -> [InteractionRecord] {
    let positives = try positives(minRating: minRating)
    guard !positives.isEmpty else {
      throw LightFMError.invalidData(
        "\(path): no positive interactions"
          + (minRating.map { " with a rating of at least \($0)" } ?? ""))
    }
    return positives
  }
}

/// Splits records into those whose user and item the dataset knows and the rest.
func knownRecords(
  _ records: [InteractionRecord], in dataset: Dataset
) -> (known: [InteractionRecord], unknown: [InteractionRecord]) {
  var known: [InteractionRecord] = []
  var unknown: [InteractionRecord] = []
  known.reserveCapacity(records.count)
  for r in records {
    if dataset.userIDs.contains(r.user) && dataset.itemIDs.contains(r.item) {
      known.append(r)
    } else {
      unknown.append(r)
    }
  }
  return (known, unknown)
}

/// Builds a `users × items` matrix of the dataset's shape from known records (weights summed).
func interactionMatrix(_ records: [InteractionRecord], dataset: Dataset) throws -> COOMatrix {
  try dataset.buildInteractions(records.lazy.map { ($0.user, $0.item, $0.value ?? 1) }).weights
}

// MARK: - Features

/// A feature file as read: `id<sep>feature[:weight]...` text, or a scipy sparse matrix used as
/// the feature matrix itself (row r is the user or item whose id is `r`).
enum FeatureInput {
  case text(FeatureFile)
  case matrix(COOMatrix, path: String)

  /// Reads `path` (`-` for standard input; a pipe works too).
  init(path: String) throws {
    let content = try readInput(path)
    if let matrix = try content.sparseMatrix() {
      // Each row becomes an id and each column a feature name (a string and its entries in the
      // dataset's mappings): refuse a shape whose names alone exceed the budget.
      let (rows, columns) = (matrix.shape.rows, matrix.shape.columns)
      try LoadLimits.default.require(
        count: rows + columns, size: 128,
        "\(path): a \(rows) x \(columns) feature matrix with \(matrix.nnz) stored entries "
          + "(\(rows) ids and \(columns) feature names)")
      self = .matrix(matrix, path: path)
    } else {
      let (bytes, name) = try content.text(expecting: "id<sep>feature lines")
      let file = try ProgressLine.elapsed("loading \(name)", parsing(bytes)) {
        try DelimitedText.parseFeatures(bytes, file: name)
      }
      noteSkippedHeader(file.header, line: file.headerLine, path: name)
      self = .text(file)
    }
  }

  var isMatrix: Bool {
    if case .matrix = self { return true }
    return false
  }

  /// The ids named in the file, in order of first appearance (matrix rows are `0..<rows`).
  var ids: [String] {
    switch self {
    case .text(let file):
      var seen = Set<String>()
      return file.records.map(\.id).filter { seen.insert($0).inserted }
    case .matrix(let m, _):
      return (0..<m.shape.rows).map(String.init)
    }
  }

  /// The feature names, in order of first appearance (matrix columns are `feature_<j>`).
  var featureNames: [String] {
    switch self {
    case .text(let file):
      var seen = Set<String>()
      return file.records.flatMap { $0.features.map(\.name) }.filter { seen.insert($0).inserted }
    case .matrix(let m, _):
      return (0..<m.shape.columns).map { "feature_\($0)" }
    }
  }

  /// The feature matrix for the dataset's users (or items) on `side`.
  ///
  /// Text rows are built with the dataset (identity features first, rows normalised to sum to 1,
  /// as LightFM's `Dataset`). A matrix is used as given, its row r placed at the id `r`.
  func matrix(side: Side, dataset: Dataset) throws -> CSRMatrix {
    switch self {
    case .text(let file):
      let rows = file.records.map { r in (r.id, r.features.map { ($0.name, $0.weight) }) }
      do {
        switch side {
        case .user: return try dataset.buildUserFeatures(rows)
        case .item: return try dataset.buildItemFeatures(rows)
        }
      } catch let error as LightFMError {
        throw LightFMError(error.kind, "\(file.path): \(error.message)")
      }
    case .matrix(let m, let path):
      let ids = dataset.ids(side)
      var rowOf = [Int32](repeating: -1, count: m.shape.rows)
      for (id, index) in ids {
        guard let r = Int(id), r >= 0, r < m.shape.rows else {
          throw LightFMError.invalidData(
            "\(path): the \(side) '\(id)' has no row in this \(m.shape.rows)-row matrix (row r "
              + "of a feature matrix belongs to the \(side) whose id is r)")
        }
        rowOf[r] = Int32(index)
      }
      var rows: [Int32] = []
      var columns: [Int32] = []
      var values: [Float] = []
      for n in 0..<m.nnz {
        let e = m[entry: n]
        let target = rowOf[e.row]
        if target < 0 { continue }
        rows.append(target)
        columns.append(Int32(e.column))
        values.append(e.value)
      }
      let coo = try COOMatrix(
        rows: ids.count, columns: m.shape.columns, rowIndices: rows, columnIndices: columns,
        values: values)
      return coo.toCSR()
    }
  }
}

// MARK: - Sides

extension Dataset {
  /// The user or item ids, by side.
  func ids(_ side: Side) -> IDMapping {
    switch side {
    case .user: userIDs
    case .item: itemIDs
    }
  }

  /// The user or item feature names, by side.
  func featureNames(_ side: Side) -> IDMapping {
    switch side {
    case .user: userFeatureNames
    case .item: itemFeatureNames
    }
  }
}

// MARK: - Item names

/// Display names from a file of `id<sep>name[<sep>...]` lines (MovieLens `u.item` works as is;
/// `-` reads standard input); `nil` without a file.
func readNames(_ path: String?) throws -> [String: String]? {
  guard let path else { return nil }
  let (bytes, name) = try readInput(path).text(expecting: "id<sep>name lines")
  var names: [String: String] = [:]
  for row in try DelimitedText.parseRows(bytes, file: name) {
    guard row.fields.count >= 2 else {
      throw LightFMError.parse(
        file: name, line: row.line, "expected an id and a name, found one field")
    }
    if names[row.fields[0]] == nil { names[row.fields[0]] = row.fields[1] }
  }
  return names
}

// MARK: - Feature rows for arrivals

/// Feature rows for the users (or items, by `side`) of a feature file
/// (`id<sep>feature[:weight]...`), described by their features alone: no identity feature,
/// rows normalised as `fit` does (`Dataset.coldStartUserFeatures`).
///
/// - Returns: the ids in file order and one feature row per id.
/// - Throws: `LightFMError` naming the file and line of a feature the model never saw, or a
///   file that is not text.
func coldStartRows(
  _ path: String, dataset: Dataset, side: Side, label: String
) throws -> (ids: [String], rows: CSRMatrix) {
  guard case .text(let file) = try FeatureInput(path: path) else {
    throw LightFMError.invalidData(
      "\(path): new \(side)s are read from a text feature file (id<sep>feature[:weight]...), "
        + "not a matrix")
  }
  let names = dataset.featureNames(side)
  let known = dataset.ids(side)
  var ids: [String] = []
  var features: [[(String, Float)]] = []
  var lines: [Int] = []
  var position: [String: Int] = [:]
  for record in file.records {
    let pairs = record.features.map { ($0.name, $0.weight) }
    if let n = position[record.id] {
      features[n] += pairs
      continue
    }
    position[record.id] = ids.count
    ids.append(record.id)
    features.append(pairs)
    lines.append(record.line)
  }
  guard !ids.isEmpty else {
    throw LightFMError.invalidData("\(path): no \(side)s in the file")
  }
  for (n, row) in features.enumerated() {
    for (name, _) in row where !names.contains(name) {
      throw LightFMError(
        .unknownID,
        "\(path):\(lines[n]): unknown \(side) feature '\(name)' for new \(side) '\(ids[n])': "
          + "the model was fitted with \(names.count) \(side) features and not this one")
    }
  }
  let already = ids.filter { known.contains($0) }
  if let first = already.first {
    Console.note(
      "\(label): \(already.count) \(side)(s) of \(path) are in the model (first "
        + "'\(first)'); they are scored from the file's features alone")
  }
  do {
    switch side {
    case .user: return (ids, try dataset.coldStartUserFeatures(features))
    case .item: return (ids, try dataset.coldStartItemFeatures(features))
    }
  } catch let error as LightFMError {
    throw LightFMError(error.kind, "\(path): \(error.message)")
  }
}

/// A saved feature matrix extended to ids added after `from`: each new row holds the id's own
/// (identity) feature alone, and the matrix gains the new feature columns. `nil` (identity
/// features) stays `nil`.
func extendedFeatures(
  _ existing: CSRMatrix?, ids: IDMapping, names: IDMapping, from: Int, label: String,
  side: Side
) throws -> CSRMatrix? {
  guard let existing else { return nil }
  let coo = COOMatrix(existing)
  var rows: [Int32] = []
  var columns: [Int32] = []
  for index in from..<ids.count {
    guard let column = names[ids.id(at: index)] else { continue }
    rows.append(Int32(index))
    columns.append(Int32(column))
  }
  if !rows.isEmpty {
    Console.note(
      "\(label): the model has \(side) features; \(rows.count) new \(side)(s) are represented "
        + "by their own feature alone")
  }
  return try CSRMatrix(
    COOMatrix(
      rows: ids.count, columns: names.count, rowIndices: coo.rowIndices + rows,
      columnIndices: coo.columnIndices + columns,
      values: coo.values + [Float](repeating: 1, count: rows.count)))
}
