import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An interactions file read straight into columns: each id is interned as its line streams
/// past, so memory holds the columns and the distinct ids, never the file or a record per line.
package struct InteractionColumns: Sendable {
  /// The path, for messages.
  package var path: String
  package var delimiter: Delimiter
  /// Whether the first line was a header (and skipped).
  package var hasHeader: Bool { header != nil }
  /// The fields of the first line when it was taken for a header and skipped (callers should
  /// say so: a mistaken header is a lost line).
  package var header: [String]?
  /// The 1-based line number of the skipped header.
  package var headerLine: Int?
  /// Fields per line: 2 to 4. A fourth column (a timestamp) is checked for presence, not kept.
  package var columnCount: Int
  /// Whether some id was not valid UTF-8, so every id was read as Latin-1.
  package var isLatin1: Bool
  /// The distinct user ids in order of first appearance: `userIDs[users[n]]` is line n's user.
  package var userIDs: [String]
  /// The distinct item ids in order of first appearance.
  package var itemIDs: [String]
  /// The user index of each data line.
  package var users: [Int32]
  /// The item index of each data line.
  package var items: [Int32]
  /// The third column of each data line; empty when the file has two columns.
  package var values: [Float]
  /// Where the line numbers jump (past a header, a comment or a blank line): data line
  /// `jumps.entries[k]` is on line `jumps.lines[k]`, and the data lines after it are on the lines
  /// after it until the next jump. One pair per gap, so a file without any costs one pair.
  package var jumps: (entries: [Int], lines: [Int])

  /// The number of data lines.
  package var count: Int { users.count }

  /// The 1-based line of the file that data line `n` (0-based) was read from.
  ///
  /// - Complexity: O(log gaps).
  package func line(ofEntry n: Int) -> Int {
    precondition(n >= 0 && n < count, "entry \(n) is outside 0..<\(count)")
    // The last jump at or before n.
    var lo = 0
    var hi = jumps.entries.count
    while hi - lo > 1 {
      let mid = (lo + hi) / 2
      if jumps.entries[mid] <= n { lo = mid } else { hi = mid }
    }
    return jumps.lines[lo] + (n - jumps.entries[lo])
  }

  /// The entries of a sparse matrix as columns: the ids are the row and column numbers as text,
  /// in order of first appearance in the stored order, and entry n is "line" n + 1.
  ///
  /// - Complexity: O(nnz + rows + columns).
  package init(_ matrix: COOMatrix, path: String) {
    func intern(_ indices: [Int32], count: Int) -> (ids: [String], order: [Int32]) {
      var position = [Int32](repeating: -1, count: count)
      var ids: [String] = []
      let order = indices.map { index in
        let i = Int(index)
        if position[i] < 0 {
          position[i] = Int32(ids.count)
          ids.append(String(i))
        }
        return position[i]
      }
      return (ids, order)
    }
    let rows = intern(matrix.rowIndices, count: matrix.shape.rows)
    let columns = intern(matrix.columnIndices, count: matrix.shape.columns)
    self.init(
      path: path, delimiter: .tab, header: nil, headerLine: nil, columnCount: 3,
      isLatin1: false, userIDs: rows.ids, itemIDs: columns.ids, users: rows.order,
      items: columns.order, values: matrix.values,
      jumps: matrix.nnz > 0 ? ([0], [1]) : ([], []))
  }

  init(
    path: String, delimiter: Delimiter, header: [String]?, headerLine: Int?, columnCount: Int,
    isLatin1: Bool, userIDs: [String], itemIDs: [String], users: [Int32], items: [Int32],
    values: [Float], jumps: (entries: [Int], lines: [Int])
  ) {
    self.path = path
    self.delimiter = delimiter
    self.header = header
    self.headerLine = headerLine
    self.columnCount = columnCount
    self.isLatin1 = isLatin1
    self.userIDs = userIDs
    self.itemIDs = itemIDs
    self.users = users
    self.items = items
    self.values = values
    self.jumps = jumps
  }

  /// The `userIDs.count × itemIDs.count` matrix of the lines, each entry the line's third
  /// column (1 without one); repeated pairs stay separate entries.
  package func matrix() -> COOMatrix {
    COOMatrix(
      uncheckedShape: MatrixShape(rows: userIDs.count, columns: itemIDs.count),
      rowIndices: users, columnIndices: items,
      values: values.isEmpty ? [Float](repeating: 1, count: users.count) : values)
  }
}

extension DelimitedText {
  /// Reads `user<sep>item[<sep>rating or weight][<sep>timestamp]` lines into columns, a chunk
  /// of the file at a time.
  ///
  /// The rules are `readInteractions(from:delimiter:header:)`'s (delimiter and header detection,
  /// comments, quotes, trimming, the same errors with file and line), with two differences: the
  /// delimiter is detected from the first lines of the first chunk, and the encoding is judged on
  /// the ids alone (Latin-1 when some id is not UTF-8).
  ///
  /// - Parameter chunkBytes: the read size; a longer line grows the buffer.
  /// - Complexity: O(file size) time; memory O(lines + distinct ids + chunkBytes).
  package static func streamInteractions(
    from url: URL, delimiter: Delimiter? = nil, header: Bool? = nil, chunkBytes: Int = 1 << 22
  ) throws -> InteractionColumns {
    let input = try InputFile(path: url.path)
    return try streamInteractions(
      file: url.path, size: input.size, delimiter: delimiter, header: header,
      chunkBytes: chunkBytes
    ) { try input.read(into: $0, at: nil) }
  }

  /// `streamInteractions(from:delimiter:header:chunkBytes:)` from any byte source: standard
  /// input, a pipe, or a descriptor the caller has already read from.
  ///
  /// - Parameters:
  ///   - file: names the input in errors.
  ///   - size: the input's size when known (a regular file), to reserve the columns.
  ///   - progress: called after each chunk with the bytes and the data lines read so far; it
  ///     may throw to stop the reading (a memory budget).
  ///   - read: puts bytes at the start of its buffer and returns how many (fewer than asked is
  ///     fine, as a pipe gives); 0 only at the end.
  package static func streamInteractions(
    file: String, size: Int?, delimiter: Delimiter? = nil, header: Bool? = nil,
    chunkBytes: Int = 1 << 22, progress: ((_ bytes: Int, _ lines: Int) throws -> Void)? = nil,
    read: (UnsafeMutableRawBufferPointer) throws -> Int
  ) throws -> InteractionColumns {
    precondition(chunkBytes >= 16, "chunkBytes must be at least 16")
    var parser = StreamParser(file: file, delimiter: delimiter, header: header)
    defer { parser.release() }
    var capacity = chunkBytes
    var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    defer { buffer.deallocate() }
    var filled = 0
    var consumed = 0
    var first = true
    while true {
      if filled == capacity {
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
        grown.update(from: buffer, count: filled)
        buffer.deallocate()
        buffer = grown
        capacity *= 2
      }
      let n = try read(
        UnsafeMutableRawBufferPointer(start: buffer + filled, count: capacity - filled))
      consumed += n
      let eof = n == 0
      filled += n
      var end = filled
      if !eof {
        end = 0
        var i = filled
        while i > 0 {
          if buffer[i - 1] == 0x0A {
            end = i
            break
          }
          i -= 1
        }
        if end == 0 { continue }  // no full line yet: read more
      }
      let chunk = UnsafeBufferPointer(start: buffer, count: end)
      if first {
        let newlines = memchrCount(buffer, 0x0A, end)
        if !eof && newlines < DelimitedText.headerRuleLines + 1 {
          continue  // the header rule looks at the lines after the first: read more
        }
        first = false
        try parser.begin(chunk, newlines: newlines, fileSize: size ?? 0)
      }
      try parser.parse(chunk)
      try progress?(consumed - (filled - end), parser.users.count)
      if end < filled { memmove(buffer, buffer + end, filled - end) }
      filled -= end
      if eof { break }
    }
    return try parser.finish()
  }
}

/// The number of `byte`s in the first `count` bytes at `base`.
private func memchrCount(_ base: UnsafePointer<UInt8>, _ byte: UInt8, _ count: Int) -> Int {
  var n = 0
  var p = UnsafeRawPointer(base)
  var left = count
  while left > 0, let hit = memchr(p, Int32(byte), left) {
    n += 1
    let next = UnsafeRawPointer(hit) + 1
    left -= next - p
    p = next
  }
  return n
}

/// The state of `streamInteractions` between chunks.
private struct StreamParser {
  let file: String
  var delimiter: Delimiter
  let givenDelimiter: Bool
  let header: Bool?
  var line = 0
  var columnCount = 0
  /// The first line's fields when it is a header.
  var headerFields: [String]?
  var headerLine: Int?
  /// The line the next data line is on when no line is skipped before it.
  var nextLine = 0
  var jumpEntries: [Int] = []
  var jumpLines: [Int] = []
  /// The header decision from the first chunk when `header` is `nil`.
  var detectedHeader = false
  var userIDs = ByteInterner()
  var itemIDs = ByteInterner()
  var users: [Int32] = []
  var items: [Int32] = []
  var values: [Float] = []
  /// Field ranges of the current line (start, end) — at most 5 are kept. Raw memory, not
  /// arrays: a store into an array held by `self` checks the array's uniqueness every time.
  /// Freed by `release()`.
  let starts = UnsafeMutablePointer<Int>.allocate(capacity: 5)
  let ends = UnsafeMutablePointer<Int>.allocate(capacity: 5)

  init(file: String, delimiter: Delimiter?, header: Bool?) {
    self.file = file
    self.delimiter = delimiter ?? .tab
    self.givenDelimiter = delimiter != nil
    self.header = header
  }

  /// Detects the delimiter and the header from the first chunk's first lines, by
  /// `readInteractions`' rules on the same lines, and reserves the columns from the chunk's bytes
  /// per line (`newlines` is the chunk's count of line feeds).
  mutating func begin(
    _ chunk: UnsafeBufferPointer<UInt8>, newlines: Int, fileSize: Int
  ) throws {
    if !givenDelimiter || header == nil,
      let text = try? TextFile(bytes: Array(chunk), file: file, expecting: "user<sep>item lines")
    {
      if !givenDelimiter { delimiter = text.detectDelimiter() }
      if header == nil {
        detectedHeader = DelimitedText.looksLikeInteractionHeader(in: text, delimiter: delimiter)
      }
    }
    let perLine = max(8, chunk.count / max(newlines, 1))
    let estimate = min(fileSize / perLine + 16, 1 << 31)
    users.reserveCapacity(estimate)
    items.reserveCapacity(estimate)
  }

  /// Parses the complete lines of `chunk` (it ends after a newline, or at the end of the file).
  mutating func parse(_ chunk: UnsafeBufferPointer<UInt8>) throws {
    guard let base = chunk.baseAddress, chunk.count > 0 else { return }
    if let nul = memchr(base, 0, chunk.count) {
      let offset = UnsafePointer<UInt8>(nul.assumingMemoryBound(to: UInt8.self)) - base
      let newlines = chunk[..<offset].lazy.filter { $0 == 0x0A }.count
      throw LightFMError.parse(
        file: file, line: line + newlines + 1,
        "binary data (a NUL byte): expected delimited text, user<sep>item lines")
    }
    let d0 = delimiter.bytes[0]
    let d1: UInt8 = delimiter.bytes.count > 1 ? delimiter.bytes[1] : 0
    let wide = delimiter.bytes.count > 1
    let n = chunk.count
    var p = 0
    if line == 0, n >= 3, base[0] == 0xEF, base[1] == 0xBB, base[2] == 0xBF { p = 3 }
    while p < n {
      line += 1
      // One pass: field boundaries up to the newline.
      var fields = 0
      var fieldStart = p
      var quoted = false
      var q = p
      while q < n {
        let b = base[q]
        if b == 0x0A { break }
        if b == 0x22 { quoted = true }
        if b == d0 && (!wide || (q + 1 < n && base[q + 1] == d1)) {
          if fields < 5 {
            starts[fields] = fieldStart
            ends[fields] = q
          }
          fields += 1
          q += wide ? 2 : 1
          fieldStart = q
          continue
        }
        q += 1
      }
      let lineEnd = q
      if fields < 5 {
        starts[fields] = fieldStart
        ends[fields] = lineEnd
      }
      fields += 1
      let next = lineEnd + 1
      // Blank and comment lines.
      var s = p
      while s < lineEnd && base[s] == 0x20 { s += 1 }
      var e = lineEnd
      while e > s && isSpace(base[e - 1]) { e -= 1 }
      if s == e || base[s] == 0x23 {
        p = next
        continue
      }
      if quoted {
        try quotedLine(UnsafeBufferPointer(rebasing: chunk[p..<lineEnd]))
        p = next
        continue
      }
      for f in 0..<min(fields, 5) {
        var a = starts[f]
        var z = ends[f]
        while a < z && base[a] == 0x20 { a += 1 }
        while z > a && isSpace(base[z - 1]) { z -= 1 }
        starts[f] = a
        ends[f] = z
      }
      try record(base, fields: fields)
      p = next
    }
  }

  /// A line with a quote: split by `TextFile`'s rules, then recorded.
  private mutating func quotedLine(_ bytes: UnsafeBufferPointer<UInt8>) throws {
    let text = try TextFile(bytes: Array(bytes), file: file, expecting: "user<sep>item lines")
    var raw: [String] = []
    text.fields(of: text.lines[0], delimiter: delimiter, into: &raw)
    var joined: [UInt8] = []
    var count = 0
    for (f, field) in raw.enumerated() {
      if f < 5 {
        starts[f] = joined.count
        joined.append(contentsOf: field.utf8)
        ends[f] = joined.count
      }
      count += 1
    }
    joined.append(0)  // a valid base address even when every field is empty
    try joined.withUnsafeBufferPointer { try record($0.baseAddress!, fields: count) }
  }

  private func string(_ base: UnsafePointer<UInt8>, _ f: Int) -> String {
    String(decoding: UnsafeBufferPointer(start: base + starts[f], count: ends[f] - starts[f]),
      as: UTF8.self)
  }

  /// Field `f` as text: UTF-8 when it is, else Latin-1.
  private func text(_ base: UnsafePointer<UInt8>, _ f: Int) -> String {
    let bytes = UnsafeBufferPointer(start: base + starts[f], count: ends[f] - starts[f])
    return String(validating: bytes, as: UTF8.self) ?? decodeText(bytes, latin1: true)
  }

  /// Checks and stores one data line whose field ranges are in `starts`/`ends`.
  private mutating func record(_ base: UnsafePointer<UInt8>, fields: Int) throws {
    if columnCount == 0 {
      guard (2...4).contains(fields) else {
        throw LightFMError.parse(
          file: file, line: line,
          "expected 2 to 4 fields (user, item[, rating or weight][, timestamp]) separated by "
            + "\(delimiter.name), found \(fields)")
      }
      columnCount = fields
      if header ?? detectedHeader {
        headerFields = (0..<fields).map { text(base, $0) }
        headerLine = line
        return
      }
    }
    guard fields == columnCount else {
      throw LightFMError.parse(
        file: file, line: line,
        "expected \(columnCount) fields separated by \(delimiter.name) as on the first line, "
          + "found \(fields)")
    }
    guard ends[0] > starts[0] else {
      throw LightFMError.parse(file: file, line: line, "the user id is empty")
    }
    guard ends[1] > starts[1] else {
      throw LightFMError.parse(file: file, line: line, "the item id is empty")
    }
    if columnCount >= 3 {
      guard let v = parseFloat(base + starts[2], ends[2] - starts[2]), v.isFinite else {
        throw LightFMError.parse(
          file: file, line: line,
          "rating or weight '\(string(base, 2))' is not a finite number")
      }
      if values.capacity == 0 { values.reserveCapacity(users.capacity) }
      values.append(v)
    }
    if line != nextLine {
      jumpEntries.append(users.count)
      jumpLines.append(line)
    }
    nextLine = line + 1
    users.append(userIDs.intern(base + starts[0], ends[0] - starts[0]))
    items.append(itemIDs.intern(base + starts[1], ends[1] - starts[1]))
  }

  /// Frees the field ranges; the parser is not used after this.
  func release() {
    starts.deallocate()
    ends.deallocate()
  }

  mutating func finish() throws -> InteractionColumns {
    if columnCount == 0 {
      throw LightFMError.parse(
        file: file, line: max(line, 1), "the file is empty: expected user<sep>item lines")
    }
    if users.isEmpty {
      throw LightFMError.parse(
        file: file, line: line, "no interactions: the file has only a header")
    }
    let latin1 = !userIDs.isUTF8 || !itemIDs.isUTF8
    guard userIDs.count <= Int(Int32.max), itemIDs.count <= Int(Int32.max) else {
      throw LightFMError.invalidData("\(file): more than \(Int32.max) distinct ids")
    }
    return InteractionColumns(
      path: file, delimiter: delimiter, header: headerFields, headerLine: headerLine,
      columnCount: columnCount, isLatin1: latin1, userIDs: userIDs.strings(latin1: latin1),
      itemIDs: itemIDs.strings(latin1: latin1), users: users, items: items, values: values,
      jumps: (jumpEntries, jumpLines))
  }
}

/// Powers of ten for the short-decimal fast path.
private let powersOfTen: [Double] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7]

/// Parses a number as `Float(String)` does.
///
/// Fast path: an optional sign, then at most 7 digits with at most one `.` — exact, since
/// m / 10^k for m < 2^24 is correctly rounded in Double and then in Float (its distance to a
/// Float halfway point is far above Double's rounding error). Anything else goes to `Float(_:)`.
@inline(__always)
private func parseFloat(_ p: UnsafePointer<UInt8>, _ n: Int) -> Float? {
  var i = 0
  var negative = false
  if n > 0 && (p[0] == 0x2D || p[0] == 0x2B) {
    negative = p[0] == 0x2D
    i = 1
  }
  var mantissa = 0
  var digits = 0
  var fraction = -1
  while i < n {
    let b = p[i]
    if b >= 0x30 && b <= 0x39 {
      mantissa = mantissa * 10 + Int(b - 0x30)
      digits += 1
      if fraction >= 0 { fraction += 1 }
    } else if b == 0x2E && fraction < 0 {
      fraction = 0
    } else {
      digits = 99
      break
    }
    i += 1
  }
  if digits >= 1 && digits <= 7 {
    let value = Float(Double(mantissa) / powersOfTen[max(fraction, 0)])
    return negative ? -value : value
  }
  return Float(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self))
}

/// Distinct byte strings in first-seen order, found by an open-addressing hash table whose slots
/// hold ids of up to 8 bytes inline (a hit costs one cache line), longer ids by hash.
private struct ByteInterner {
  private var arena: [UInt8] = []
  private var offsets: [Int] = [0]
  /// Two words per slot: the tag — 0 when empty, else (length << 32) | (index + 1) — and the
  /// key — the id's bytes packed little-endian (up to 8 bytes) or its hash (longer ids).
  private var slots = [UInt64](repeating: 0, count: 2 << 12)
  private var mask = (1 << 12) - 1
  /// Index + 1 of each decimal id without leading zeros below `denseLimit`, by its value: a
  /// table of 4 bytes per value, denser in cache than the hash slots for numbered ids.
  private var dense: [Int32] = []
  private static let denseLimit = 1 << 24

  private(set) var count = 0

  /// Whether every id is valid UTF-8.
  var isUTF8: Bool {
    arena.allSatisfy { $0 < 0x80 } || (0..<count).allSatisfy { n in
      String(validating: arena[offsets[n]..<offsets[n + 1]], as: UTF8.self) != nil
    }
  }

  func strings(latin1: Bool) -> [String] {
    arena.withUnsafeBufferPointer { a in
      (0..<count).map { n in
        decodeText(UnsafeBufferPointer(rebasing: a[offsets[n]..<offsets[n + 1]]), latin1: latin1)
      }
    }
  }

  /// The slot key: the bytes themselves when they fit in 8, else a hash of them.
  @inline(__always)
  static func key(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
    if n <= 8 {
      var packed: UInt64 = 0
      var i = n
      while i > 0 {
        i -= 1
        packed = packed << 8 | UInt64(p[i])
      }
      return packed
    }
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 8 <= n {
      h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
      h ^= h >> 32
      i += 8
    }
    var tail: UInt64 = 0
    var shift: UInt64 = 0
    while i < n {
      tail |= UInt64(p[i]) << shift
      shift += 8
      i += 1
    }
    return (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
  }

  /// The home slot of a key and length.
  @inline(__always)
  static func home(_ key: UInt64, _ n: Int) -> Int {
    var h = (key ^ UInt64(truncatingIfNeeded: n) << 59) &* 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 29
    h = h &* 0xC4CE_B9FE_1A85_EC53
    return Int(truncatingIfNeeded: h ^ (h >> 32))
  }

  /// The index of the bytes, added when new.
  @inline(__always)
  mutating func intern(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int32 {
    if n <= 8 && (n == 1 || p[0] != 0x30) {
      var value = 0
      var i = 0
      while i < n {
        let digit = Int(p[i]) &- 0x30
        if digit < 0 || digit > 9 { break }
        value = value * 10 + digit
        i += 1
      }
      if i == n && value < Self.denseLimit {
        if value >= dense.count {
          dense.append(
            contentsOf: repeatElement(0, count: max(value + 1, 2 * dense.count) - dense.count))
        }
        let found = dense.withUnsafeBufferPointer { $0[value] }
        if found != 0 { return found - 1 }
        let id = count
        count += 1
        arena.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
        offsets.append(arena.count)
        dense[value] = Int32(id + 1)
        return Int32(id)
      }
    }
    let key = Self.key(p, n)
    let length = UInt64(truncatingIfNeeded: n) << 32
    var slot = Self.home(key, n) & mask
    while true {
      let (tag, stored) = slots.withUnsafeBufferPointer { ($0[2 * slot], $0[2 * slot + 1]) }
      if tag == 0 { break }
      if tag & ~0xFFFF_FFFF == length && stored == key {
        let id = Int(tag & 0xFFFF_FFFF) - 1
        if n <= 8 { return Int32(id) }
        let same = offsets.withUnsafeBufferPointer { o in
          arena.withUnsafeBufferPointer { memcmp($0.baseAddress! + o[id], p, n) == 0 }
        }
        if same { return Int32(id) }
      }
      slot = (slot + 1) & mask
    }
    let id = count
    count += 1
    arena.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
    offsets.append(arena.count)
    slots[2 * slot] = length | UInt64(id + 1)
    slots[2 * slot + 1] = key
    if count * 4 > slots.count { grow() }
    return Int32(id)
  }

  private mutating func grow() {
    let old = slots
    let size = old.count  // slots double: twice the words, two words a slot
    slots = [UInt64](repeating: 0, count: 2 * size)
    mask = size - 1
    for s in stride(from: 0, to: old.count, by: 2) where old[s] != 0 {
      var slot = Self.home(old[s + 1], Int(old[s] >> 32)) & mask
      while slots[2 * slot] != 0 { slot = (slot + 1) & mask }
      slots[2 * slot] = old[s]
      slots[2 * slot + 1] = old[s + 1]
    }
  }
}
