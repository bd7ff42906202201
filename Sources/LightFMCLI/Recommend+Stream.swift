import Foundation
import LightFMKit

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - lightfm recommend --stream

extension Recommend.KnownUsers {
  /// What `--stream` reads and writes, for `--help`.
  static let streamHelp =
    "Shard mode for pipes (Spark's RDD.pipe, mapPartitions): reads lines "
    + "user<TAB>item item ... from standard input (the items, space-separated, are excluded "
    + "for that user; they may be absent, with or without the tab), scores them --batch-size "
    + "users at a time as they arrive, and writes user,rank,item,score lines (or --format "
    + "jsonl) to standard output, with no header. A malformed line, an unknown user or a user "
    + "seen twice stops it with the line number and a non-zero status; excluded items the "
    + "model does not know are skipped."

  /// Scores the users named on standard input, batch by batch, and writes their lists to
  /// standard output without a header, so that the outputs of several shards concatenate.
  ///
  /// Memory is the model plus one batch of lines (and one bit per model user, to refuse a user
  /// seen twice). Every error names the 1-based line of standard input and shows it.
  func recommendStream() throws {
    let conflicting = [
      ("--users", selection.users), ("--exclude", selection.exclude), ("--output", lists.output),
    ].filter { $0.1 != nil }.map(\.0)
    if !conflicting.isEmpty {
      throw LightFMError(
        .invalidParameter,
        "--stream reads its users and their excluded items from standard input and writes to "
          + "standard output: drop \(conflicting.joined(separator: ", "))")
    }
    let fromStandardInput = [
      ("--model", model.model), ("--items", lists.items),
      ("--item-names", lists.listOptions.itemNames),
    ].filter { $0.1 == "-" }.map(\.0)
    if !fromStandardInput.isEmpty {
      throw LightFMError(
        .invalidParameter,
        "--stream reads its users from standard input: give "
          + "\(fromStandardInput.joined(separator: ", ")) as a file, not '-'")
    }
    let loaded = try model.load()
    // Each shard sees only its own users: popularity counts come from --popularity-from.
    let control = try popularity.control(
      dataset: loaded.dataset, training: nil, minRating: nil, label: "recommend")
    let writer = try lists.listWriter()
    let candidates = try lists.candidates(dataset: loaded.dataset)
    let sink = try OutputSink(path: nil)
    var parser = StreamLineParser(dataset: loaded.dataset)
    var batch = StreamBatch()

    func score() throws {
      guard !batch.users.isEmpty else { return }
      let scored = try loaded.model.recommend(
        users: batch.users, count: lists.top,
        excluding: try batch.exclusion(items: parser.itemCount), candidates: candidates,
        userFeatures: loaded.userFeatures, itemFeatures: loaded.itemFeatures,
        popularity: control, numThreads: threads.count)
      let dataset = loaded.dataset
      try writer.write(
        scored, queries: batch.users.map { dataset.userIDs.id(at: $0) }, ids: dataset.itemIDs,
        to: sink)
      try sink.flush()
      batch.removeAll()
    }

    var reader = LineReader(descriptor: 0)
    while let line = try reader.next() {
      let parsed = try line.withUnsafeBufferPointer { try parser.parse($0) }
      batch.append(user: parsed.user, items: parsed.items)
      if batch.users.count == batches.batchSize { try score() }
    }
    try score()
    try sink.finish()
    if let first = parser.firstUnknownItem {
      Console.note(
        "recommend: \(parser.unknownItems) excluded item id(s) on standard input are not in "
          + "the model and were skipped (first '\(first.id)' on line \(first.line))")
    }
  }
}

// MARK: - Lines of standard input

/// Splits a file descriptor into lines as the bytes arrive (a line is returned as soon as its
/// newline is read), without the `\n` or a `\r\n`. The last line may lack its newline.
struct LineReader {
  let descriptor: Int32
  private var buffer = [UInt8](repeating: 0, count: 1 << 20)
  private var start = 0
  private var end = 0
  private var atEOF = false

  init(descriptor: Int32) { self.descriptor = descriptor }

  mutating func next() throws -> [UInt8]? {
    while true {
      if let newline = buffer[start..<end].firstIndex(of: 0x0A) {
        var stop = newline
        if stop > start && buffer[stop - 1] == 0x0D { stop -= 1 }
        let line = Array(buffer[start..<stop])
        start = newline + 1
        return line
      }
      if atEOF {
        guard start < end else { return nil }
        var stop = end
        if buffer[stop - 1] == 0x0D { stop -= 1 }
        let line = Array(buffer[start..<stop])
        start = end
        return line
      }
      try fill()
    }
  }

  /// Moves the unread bytes to the front, grows the buffer if one line fills it, and reads.
  private mutating func fill() throws {
    if start > 0 {
      buffer.withUnsafeMutableBufferPointer { b in
        _ = memmove(b.baseAddress!, b.baseAddress! + start, end - start)
      }
      end -= start
      start = 0
    }
    if end == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
    let count = buffer.withUnsafeMutableBufferPointer { b in
      read(descriptor, b.baseAddress! + end, b.count - end)
    }
    if count < 0 {
      if errno == EINTR { return }
      throw LightFMError(.io, "<stdin>: read failed (errno \(errno))")
    }
    if count == 0 { atEOF = true }
    end += count
  }
}

/// Reads `user<TAB>item item ...` lines against a model's id mappings.
struct StreamLineParser {
  let dataset: Dataset
  private(set) var lineNumber = 0
  private(set) var unknownItems = 0
  private(set) var firstUnknownItem: (id: String, line: Int)?
  /// One bit per model user: seen on an earlier line.
  private var seen: [UInt64]

  init(dataset: Dataset) {
    self.dataset = dataset
    seen = [UInt64](repeating: 0, count: (dataset.userIDs.count + 63) / 64)
  }

  var itemCount: Int { dataset.itemIDs.count }

  /// The next line's user index and known excluded item indices.
  /// - Throws: `LightFMError` naming the line and showing it for a second tab, an empty or
  ///   unknown user id, or a user already seen.
  mutating func parse(_ line: UnsafeBufferPointer<UInt8>) throws -> (user: Int, items: [Int32]) {
    lineNumber += 1
    let tab = line.firstIndex(of: 0x09) ?? line.count
    let rest = tab < line.count ? UnsafeBufferPointer(rebasing: line[(tab + 1)...]) : nil
    if let rest, rest.contains(0x09) {
      throw error(
        line, "expected user<TAB>item item ... (one tab; the items separated by spaces), found "
          + "\(rest.filter { $0 == 0x09 }.count + 2) tab-separated fields")
    }
    let userID = String(decoding: UnsafeBufferPointer(rebasing: line[..<tab]), as: UTF8.self)
    if userID.isEmpty { throw error(line, "the user id is empty") }
    guard let user = dataset.userIDs[userID] else {
      throw error(
        line, "unknown user id '\(userID)': the model has \(dataset.userIDs.count) users (for "
          + "example '\(dataset.userIDs.id(at: 0))')")
    }
    let (word, bit) = (user / 64, UInt64(1) << UInt64(user % 64))
    if seen[word] & bit != 0 {
      throw error(
        line, "the user '\(userID)' appears on an earlier line: each user must come once "
          + "(group a user's items on one line)")
    }
    seen[word] |= bit
    var items: [Int32] = []
    guard let rest else { return (user, items) }
    var from = 0
    while from < rest.count {
      let to = rest[from...].firstIndex(of: 0x20) ?? rest.count
      if to > from {
        let id = String(decoding: UnsafeBufferPointer(rebasing: rest[from..<to]), as: UTF8.self)
        if let item = dataset.itemIDs[id] {
          items.append(Int32(item))
        } else {
          unknownItems += 1
          if firstUnknownItem == nil { firstUnknownItem = (id, lineNumber) }
        }
      }
      from = to + 1
    }
    return (user, items)
  }

  private func error(_ line: UnsafeBufferPointer<UInt8>, _ message: String) -> LightFMError {
    let text = String(decoding: line.prefix(200), as: UTF8.self)
      .replacingOccurrences(of: "\t", with: "\\t")
    let shown = line.count > 200 ? text + "..." : text
    return LightFMError.parse(
      file: "<stdin>", line: lineNumber, message + " in line '\(shown)'")
  }
}

/// The users of one batch and their excluded items.
struct StreamBatch {
  private(set) var users: [Int] = []
  private var items: [[Int32]] = []

  mutating func append(user: Int, items row: [Int32]) {
    users.append(user)
    items.append(row)
  }

  mutating func removeAll() {
    users.removeAll(keepingCapacity: true)
    items.removeAll(keepingCapacity: true)
  }

  /// The batch's exclusions as the `users × items` matrix `recommend(excluding:)` takes (the
  /// shape `--exclude` builds, cut after the batch's highest user; other rows are empty).
  func exclusion(items itemCount: Int) throws -> CSRMatrix {
    let rows = (users.max() ?? -1) + 1
    var counts = [Int](repeating: 0, count: rows + 1)
    for (user, row) in zip(users, items) { counts[user + 1] = row.count }
    for r in 0..<rows { counts[r + 1] += counts[r] }
    var columns = [Int32](repeating: 0, count: counts[rows])
    for (user, row) in zip(users, items) {
      columns.replaceSubrange(counts[user]..<(counts[user] + row.count), with: row)
    }
    return try CSRMatrix(
      rows: rows, columns: itemCount, rowPointers: counts, columnIndices: columns,
      values: [Float](repeating: 1, count: columns.count))
  }
}
