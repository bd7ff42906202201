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
  "parsing " + ProgressLine.megabytes(bytes.count) + " MB"
}

/// An interactions file as read, in columns: delimited text streamed a chunk at a time, or a
/// scipy sparse matrix whose row and column indices are the user and item ids. Nothing is kept
/// per line but the columns' user index, item index and value.
struct InteractionInput {
  /// The path, or `<stdin>`, for messages.
  let path: String
  let isMatrix: Bool
  /// The distinct ids in order of first appearance, and each entry's user, item and value
  /// (a text line, or a matrix's stored entry).
  let columns: InteractionColumns

  /// Bytes per entry that a command holds while it builds a matrix from the columns: the
  /// columns (user, item, value: 12 bytes), the kept entries in the dataset's indices (12) and
  /// their sum over repeated pairs (12). A matrix read from an `.npz` adds its own 12.
  static let bytesPerLine = 36

  /// Reads `path` (`-` for standard input; a pipe works too). An `.npz` is told from text by
  /// its first bytes, not its name.
  init(path: String) throws {
    let input = try OpenInput(path)
    let limits = LoadLimits.default
    if input.isArchive {
      // Judged from the archive's headers before any data is read.
      let size = try NPZ.sparseMatrixSize(from: URL(fileURLWithPath: path))
      try limits.require(
        count: size.nnz, size: Self.bytesPerLine + 12, "\(path): \(size.nnz) interactions")
      self.init(
        matrix: try NPZ.readSparseMatrix(from: URL(fileURLWithPath: path)), path: path)
      return
    }
    // A stream is told by its first bytes too: a zip archive is read whole, text is streamed.
    var head = [UInt8](repeating: 0, count: zipMagic.count)
    head.removeLast(head.count - (try head.withUnsafeMutableBytes { try input.read(into: $0) }))
    if head == zipMagic {
      let bytes = try input.readAll(after: head)
      self.init(
        matrix: try NPZ.readSparseMatrix(bytes: bytes, file: input.name), path: input.name)
      return
    }
    let name = input.name
    let progress = ProgressLine("loading \(name)", total: input.size, unit: .bytes)
    defer { progress.finish() }
    var pending = head[...]
    let columns = try DelimitedText.streamInteractions(
      file: name, size: input.size,
      progress: { bytes, lines in
        progress.update(bytes)
        // A file's lines are projected from those read so far; a stream's are counted.
        let projected = input.size.map { size in
          bytes > 0 ? max(lines, Int(Double(lines) / Double(bytes) * Double(size))) : lines
        }
        try limits.require(
          count: projected ?? lines, size: Self.bytesPerLine,
          "\(name): \(projected == nil ? "" : "about ")\(projected ?? lines) interactions")
      },
      read: { buffer in
        guard !pending.isEmpty else { return try input.read(into: buffer) }
        let n = min(pending.count, buffer.count)
        buffer.copyBytes(from: pending.prefix(n))
        pending = pending.dropFirst(n)
        return n
      })
    noteSkippedHeader(columns.header, line: columns.headerLine, path: name)
    self.init(path: name, isMatrix: false, columns: columns)
  }

  private init(matrix: COOMatrix, path: String) {
    self.init(path: path, isMatrix: true, columns: InteractionColumns(matrix, path: path))
  }

  private init(path: String, isMatrix: Bool, columns: InteractionColumns) {
    self.path = path
    self.isMatrix = isMatrix
    self.columns = columns
  }

  /// The number of entries (text lines or stored matrix entries).
  var count: Int { columns.count }

  /// Whether the entries carry a third column (always true for a matrix: its values).
  var hasValues: Bool { isMatrix || columns.columnCount >= 3 }

  /// Where entry `n` came from, for messages: `file:line` or `file: entry n` (1-based).
  func location(_ n: Int) -> String {
    isMatrix ? "\(path): entry \(n + 1)" : "\(path):\(columns.line(ofEntry: n))"
  }

  /// The user and item ids of entry `n`.
  func ids(_ n: Int) -> (user: String, item: String) {
    (columns.userIDs[Int(columns.users[n])], columns.itemIDs[Int(columns.items[n])])
  }

  /// The entries to train or evaluate on, and their weights.
  ///
  /// With `minRating`, the third column is a rating: entries rated at least `minRating` are
  /// kept with weight 1, the others dropped. Without it, the third column (if any) is the weight.
  /// - Throws: `LightFMError` when `minRating` is given but there is no rating column, or a
  ///   weight is negative (naming the file and line).
  func positives(minRating: Float?) throws -> EntryWeights {
    if let minRating {
      guard hasValues else {
        throw LightFMError(
          .parse,
          "\(path): --min-rating needs a rating in the third column, but the lines have only "
            + "user and item")
      }
      let kept = columns.values.reduce(0) { $1 >= minRating ? $0 + 1 : $0 }
      return EntryWeights(values: columns.values, minRating: minRating, count: kept)
    }
    if let n = columns.values.firstIndex(where: { $0 < 0 }) {
      throw LightFMError(
        .parse,
        "\(location(n)): weight \(columns.values[n]) is negative: weights must be >= 0 (pass "
          + "--min-rating to read the third column as ratings)")
    }
    return everyEntry
  }

  /// Every entry, weighted by its third column (1 without one).
  var everyEntry: EntryWeights {
    EntryWeights(values: columns.values, minRating: nil, count: count)
  }

  /// The dataset's index of each of the input's distinct ids on `side` (-1 when it has none).
  func indices(_ side: Side, in dataset: Dataset) -> [Int32] {
    let mapping = dataset.ids(side)
    return (side == .user ? columns.userIDs : columns.itemIDs).map { id in
      mapping[id].map { Int32($0) } ?? -1
    }
  }

  /// The entries `weights` keeps whose user and item both have an index in `userIndex` and
  /// `itemIndex` (see `indices(_:in:)`), as a `users × items` matrix of the dataset's shape
  /// with the weights of a repeated pair added; and the kept entries left out for lack of an
  /// index, with the first of them.
  func matrix(
    _ weights: EntryWeights, dataset: Dataset, userIndex: [Int32], itemIndex: [Int32]
  ) throws -> (matrix: COOMatrix, kept: Int, unknown: Int, firstUnknown: Int?) {
    var rows: [Int32] = []
    var columns: [Int32] = []
    var values: [Float] = []
    rows.reserveCapacity(weights.count)
    columns.reserveCapacity(weights.count)
    values.reserveCapacity(weights.count)
    var unknown = 0
    var firstUnknown: Int?
    let (users, items) = (self.columns.users, self.columns.items)
    for n in 0..<count {
      guard let weight = weights[n] else { continue }
      let u = userIndex[Int(users[n])]
      let i = itemIndex[Int(items[n])]
      guard u >= 0 && i >= 0 else {
        unknown += 1
        if firstUnknown == nil { firstUnknown = n }
        continue
      }
      rows.append(u)
      columns.append(i)
      values.append(weight)
    }
    let shape = dataset.interactionsShape
    let matrix = try COOMatrix(
      rows: shape.rows, columns: shape.columns, rowIndices: rows, columnIndices: columns,
      values: values
    ).summingDuplicates()
    return (matrix, rows.count, unknown, firstUnknown)
  }

  /// `matrix(_:dataset:userIndex:itemIndex:)` with the dataset's own indices.
  func matrix(
    _ weights: EntryWeights, dataset: Dataset
  ) throws -> (matrix: COOMatrix, kept: Int, unknown: Int, firstUnknown: Int?) {
    try matrix(
      weights, dataset: dataset, userIndex: indices(.user, in: dataset),
      itemIndex: indices(.item, in: dataset))
  }
}

/// Which entries of an `InteractionInput` are kept, and the weight of each.
struct EntryWeights {
  fileprivate let values: [Float]
  fileprivate let minRating: Float?
  /// The number of entries kept.
  let count: Int

  /// The weight of entry `n`, or `nil` when it is dropped.
  @inline(__always)
  subscript(n: Int) -> Float? {
    if let minRating { return values[n] >= minRating ? 1 : nil }
    return values.isEmpty ? 1 : values[n]
  }
}

extension InteractionInput {
  /// `positives(minRating:)` for training: a file without a positive is an error.
  func trainingPositives(minRating: Float?) throws -> EntryWeights {
    let positives = try positives(minRating: minRating)
    guard positives.count > 0 else {
      throw LightFMError.invalidData(
        "\(path): no positive interactions"
          + (minRating.map { " with a rating of at least \($0)" } ?? ""))
    }
    return positives
  }
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
