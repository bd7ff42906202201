import Foundation

/// The separator between the fields of a delimited text file.
package enum Delimiter: String, CaseIterable, Sendable {
  case doubleColon = "::"
  case tab = "\t"
  case pipe = "|"
  case comma = ","

  /// A readable name for messages.
  package var name: String {
    switch self {
    case .doubleColon: "'::'"
    case .tab: "tab"
    case .pipe: "'|'"
    case .comma: "','"
    }
  }

  var bytes: [UInt8] { Array(rawValue.utf8) }
}

/// One line of an interactions file: `user<sep>item[<sep>rating or weight][<sep>timestamp]`.
package struct InteractionRecord: Equatable, Sendable {
  package var user: String
  package var item: String
  /// The third column (a rating or a weight) when the file has one.
  package var value: Float?
  /// The fourth column, as written, when the file has one (kept, not interpreted).
  package var timestamp: String?
  /// The 1-based line of the file this record came from.
  package var line: Int

  package init(
    user: String, item: String, value: Float? = nil, timestamp: String? = nil, line: Int
  ) {
    self.user = user
    self.item = item
    self.value = value
    self.timestamp = timestamp
    self.line = line
  }
}

/// A parsed interactions file.
package struct InteractionFile: Sendable {
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
  /// Fields per line: 2 to 4.
  package var columnCount: Int
  /// Whether the bytes were not UTF-8 and were read as Latin-1.
  package var isLatin1: Bool
  package var records: [InteractionRecord]
}

/// One line of a feature file: `id<sep>feature[:weight]<sep>feature[:weight]...`.
package struct FeatureRecord: Equatable, Sendable {
  package struct Feature: Equatable, Sendable {
    package var name: String
    package var weight: Float
  }
  package var id: String
  package var features: [Feature]
  package var line: Int
}

/// A parsed feature file.
package struct FeatureFile: Sendable {
  package var path: String
  package var delimiter: Delimiter
  /// Whether the first line was a header (and skipped).
  package var hasHeader: Bool { header != nil }
  /// The fields of the first line when it was taken for a header and skipped.
  package var header: [String]?
  /// The 1-based line number of the skipped header.
  package var headerLine: Int?
  package var isLatin1: Bool
  package var records: [FeatureRecord]
}

/// Readers for the delimited text files the `lightfm` tool takes (package-internal: the tool's
/// file formats, not the library's API).
///
/// - The delimiter is tab, comma, `|` or `::`, detected from the first lines unless given: the
///   candidate found on the most lines wins, ties going to `::`, tab, `|`, then comma.
/// - Text is UTF-8 (a byte-order mark is skipped); a file that is not valid UTF-8 is read as
///   Latin-1, as MovieLens's `u.item` needs. A NUL byte means binary data and is an error.
/// - Empty lines and lines starting with `#` are skipped. A field may be wrapped in double quotes
///   (with `""` inside for a quote) to hold the delimiter. Spaces around fields are trimmed.
/// - Every error names the file and the 1-based line.
package enum DelimitedText {
  // MARK: - Interactions

  /// Reads `user<sep>item[<sep>rating or weight][<sep>timestamp]` lines.
  ///
  /// Header detection (when `header` is `nil`): the first line is a header only when every one
  /// of its numeric columns is not a number — the rating or weight and timestamp columns, and
  /// any column that holds numbers on all the following lines checked (up to 100) — and its
  /// user and item do not appear again as a user and an item (a header names columns; it is
  /// not data). A two-column file has a header only when its first line is named like a user and
  /// an item column (`user`, `user_id`, `userId`, … and `item`, `item_id`, `movieId`, …). A
  /// skipped header is returned in `InteractionFile.header`; the reader never prints.
  ///
  /// - Parameters:
  ///   - url: the file to read.
  ///   - delimiter: the separator, or `nil` to detect it.
  ///   - header: whether the first line is a header, or `nil` to detect it.
  /// - Throws: `LightFMError` with file and line for an empty or binary file, a line with a
  ///   different number of fields than the first, an empty id, or a value that is not a finite
  ///   number.
  package static func readInteractions(
    from url: URL, delimiter: Delimiter? = nil, header: Bool? = nil
  ) throws -> InteractionFile {
    try parseInteractions(
      try readFileBytes(url), file: url.path, delimiter: delimiter, header: header)
  }

  /// Parses the bytes of an interactions file; `file` names it in errors.
  package static func parseInteractions(
    _ bytes: [UInt8], file: String, delimiter: Delimiter? = nil, header: Bool? = nil
  ) throws -> InteractionFile {
    let text = try TextFile(bytes: bytes, file: file, expecting: "user<sep>item lines")
    let delimiter = delimiter ?? text.detectDelimiter()
    var records: [InteractionRecord] = []
    records.reserveCapacity(text.lines.count)
    var columnCount = 0
    var skippedHeader: [String]?
    var fields: [String] = []
    for (index, line) in text.lines.enumerated() {
      text.fields(of: line, delimiter: delimiter, into: &fields)
      if index == 0 {
        guard (2...4).contains(fields.count) else {
          throw LightFMError.parse(
            file: file, line: line.number,
            "expected 2 to 4 fields (user, item[, rating or weight][, timestamp]) separated by "
              + "\(delimiter.name), found \(fields.count)")
        }
        columnCount = fields.count
        if header ?? looksLikeInteractionHeader(in: text, delimiter: delimiter) {
          skippedHeader = fields
          continue
        }
      }
      guard fields.count == columnCount else {
        throw LightFMError.parse(
          file: file, line: line.number,
          "expected \(columnCount) fields separated by \(delimiter.name) as on the first line, "
            + "found \(fields.count)")
      }
      guard !fields[0].isEmpty else {
        throw LightFMError.parse(file: file, line: line.number, "the user id is empty")
      }
      guard !fields[1].isEmpty else {
        throw LightFMError.parse(file: file, line: line.number, "the item id is empty")
      }
      var value: Float?
      if columnCount >= 3 {
        guard let v = Float(fields[2]), v.isFinite else {
          throw LightFMError.parse(
            file: file, line: line.number,
            "rating or weight '\(fields[2])' is not a finite number")
        }
        value = v
      }
      records.append(
        InteractionRecord(
          user: fields[0], item: fields[1], value: value,
          timestamp: columnCount == 4 ? fields[3] : nil, line: line.number))
    }
    if records.isEmpty {
      throw LightFMError.parse(
        file: file, line: text.lines.last?.number ?? 1,
        "no interactions: the file has only a header")
    }
    return InteractionFile(
      path: file, delimiter: delimiter, header: skippedHeader,
      headerLine: skippedHeader == nil ? nil : text.lines[0].number, columnCount: columnCount,
      isLatin1: text.isLatin1, records: records)
  }

  static let userColumnNames: Set<String> = [
    "user", "userid", "users", "uid", "customer",
    "customerid", "visitorid",
  ]
  static let itemColumnNames: Set<String> = [
    "item", "itemid", "items", "iid", "movie", "movieid",
    "product", "productid", "track", "trackid", "artist", "artistid", "book", "bookid", "isbn",
  ]

  static func normalizedColumnName(_ s: String) -> String {
    String(s.lowercased().unicodeScalars.filter { $0 != "_" && $0 != "-" && $0 != " " })
  }

  /// Lines after the first that the interaction header rule looks at.
  static let headerRuleLines = 100

  /// Whether the first line of `text` is a header, judged with up to `headerRuleLines` lines
  /// after it (see `readInteractions`).
  static func looksLikeInteractionHeader(in text: TextFile, delimiter: Delimiter) -> Bool {
    let following = text.lines.dropFirst().prefix(headerRuleLines).map {
      text.fields(of: $0, delimiter: delimiter)
    }
    return looksLikeInteractionHeader(
      text.fields(of: text.lines[0], delimiter: delimiter), following: following)
  }

  /// Whether a first line `fields` is a header, judged with the lines that follow it (see
  /// `readInteractions`).
  static func looksLikeInteractionHeader(_ fields: [String], following: [[String]]) -> Bool {
    func isNumber(_ s: String) -> Bool { Float(s) != nil }
    let rows = following.filter { $0.count == fields.count }
    var numeric = Set(2..<max(fields.count, 2))
    for column in 0..<min(fields.count, 2)
    where !rows.isEmpty && rows.allSatisfy({ isNumber($0[column]) }) {
      numeric.insert(column)
    }
    guard numeric.allSatisfy({ !isNumber(fields[$0]) }) else { return false }
    // A header's user and item are column names, not ids used again below.
    if rows.contains(where: { $0[0] == fields[0] || $0[1] == fields[1] }) { return false }
    if fields.count >= 3 { return true }
    return userColumnNames.contains(normalizedColumnName(fields[0]))
      && itemColumnNames.contains(normalizedColumnName(fields[1]))
  }

  // MARK: - Features

  /// Reads `id<sep>feature[:weight]<sep>...` lines. A trailing `:number` on a feature is its
  /// weight (default 1); any other colon is part of the name (`genre:Drama` weighs 1). An id may
  /// appear on several lines; its features add up.
  ///
  /// Header detection (when `header` is `nil`): the first line is a header when its first field
  /// is named like an id column (`id`, `user`, `item_id`, `movieId`, …).
  /// - Throws: `LightFMError` with file and line for an empty or binary file, an empty id, or a
  ///   weight that is not finite.
  package static func readFeatures(
    from url: URL, delimiter: Delimiter? = nil, header: Bool? = nil
  ) throws -> FeatureFile {
    try parseFeatures(
      try readFileBytes(url), file: url.path, delimiter: delimiter, header: header)
  }

  /// Parses the bytes of a feature file; `file` names it in errors.
  package static func parseFeatures(
    _ bytes: [UInt8], file: String, delimiter: Delimiter? = nil, header: Bool? = nil
  ) throws -> FeatureFile {
    let text = try TextFile(bytes: bytes, file: file, expecting: "id<sep>feature lines")
    let delimiter = delimiter ?? text.detectDelimiter()
    var records: [FeatureRecord] = []
    var skippedHeader: [String]?
    for (index, line) in text.lines.enumerated() {
      let fields = text.fields(of: line, delimiter: delimiter)
      if index == 0 {
        let first = normalizedColumnName(fields[0])
        if header
          ?? (first == "id" || userColumnNames.contains(first) || itemColumnNames.contains(first))
        {
          skippedHeader = fields
          continue
        }
      }
      guard !fields[0].isEmpty else {
        throw LightFMError.parse(file: file, line: line.number, "the id is empty")
      }
      var features: [FeatureRecord.Feature] = []
      for field in fields.dropFirst() where !field.isEmpty {
        var name = field
        var weight: Float = 1
        if let colon = field.lastIndex(of: ":"), colon != field.startIndex,
          let w = Float(field[field.index(after: colon)...])
        {
          guard w.isFinite else {
            throw LightFMError.parse(
              file: file, line: line.number, "feature '\(field)' has a weight that is not finite")
          }
          name = String(field[..<colon])
          weight = w
        }
        features.append(FeatureRecord.Feature(name: name, weight: weight))
      }
      records.append(FeatureRecord(id: fields[0], features: features, line: line.number))
    }
    if records.isEmpty {
      throw LightFMError.parse(
        file: file, line: text.lines.last?.number ?? 1,
        "no feature lines: the file has only a header")
    }
    return FeatureFile(
      path: file, delimiter: delimiter, header: skippedHeader,
      headerLine: skippedHeader == nil ? nil : text.lines[0].number, isLatin1: text.isLatin1,
      records: records)
  }

  // MARK: - Raw rows and id lists

  /// Reads every line's fields as written (no header detection, no number parsing), for files
  /// such as name lists (`id|name|...`, MovieLens `u.item`).
  ///
  /// - Throws: `LightFMError` with file and line for an empty or binary file.
  package static func readRows(
    from url: URL, delimiter: Delimiter? = nil
  ) throws -> [(fields: [String], line: Int)] {
    try parseRows(try readFileBytes(url), file: url.path, delimiter: delimiter)
  }

  /// Parses the bytes of a delimited file into fields per line; `file` names it in errors.
  package static func parseRows(
    _ bytes: [UInt8], file: String, delimiter: Delimiter? = nil
  ) throws -> [(fields: [String], line: Int)] {
    let text = try TextFile(bytes: bytes, file: file, expecting: "delimited lines")
    let delimiter = delimiter ?? text.detectDelimiter()
    return text.lines.map { (text.fields(of: $0, delimiter: delimiter), $0.number) }
  }

  /// Reads one id per line (the first field when a line has several); `#` lines are skipped.
  ///
  /// - Throws: `LightFMError` with file and line for an empty or binary file.
  package static func readIDs(from url: URL) throws -> [(id: String, line: Int)] {
    try parseIDs(try readFileBytes(url), file: url.path)
  }

  /// Parses the bytes of an id list; `file` names it in errors.
  package static func parseIDs(
    _ bytes: [UInt8], file: String
  ) throws -> [(id: String, line: Int)] {
    try parseRows(bytes, file: file).map { ($0.fields[0], $0.line) }
  }
}

// MARK: - Lines and fields

/// A text file split into its non-empty, non-comment lines (byte ranges), with its encoding.
struct TextFile {
  struct Line {
    /// 1-based.
    let number: Int
    let range: Range<Int>
  }

  let file: String
  let bytes: [UInt8]
  let isLatin1: Bool
  let lines: [Line]

  init(bytes: [UInt8], file: String, expecting: String) throws {
    self.file = file
    var start = 0
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
    if let nul = bytes.firstIndex(of: 0) {
      let line = 1 + bytes[..<nul].lazy.filter { $0 == 0x0A }.count
      let hint =
        bytes.starts(with: [0x50, 0x4B, 0x03, 0x04])
        ? " (it looks like a zip archive: name scipy matrices *.npz)" : ""
      throw LightFMError.parse(
        file: file, line: line,
        "binary data (a NUL byte at offset \(nul)): expected delimited text, \(expecting)\(hint)")
    }
    self.bytes = bytes
    isLatin1 = String(validating: bytes[start...], as: UTF8.self) == nil
    var lines: [Line] = []
    var number = 0
    var lineStart = start
    while lineStart < bytes.count {
      number += 1
      var end = lineStart
      while end < bytes.count && bytes[end] != 0x0A { end += 1 }
      var contentEnd = end
      while contentEnd > lineStart && isSpace(bytes[contentEnd - 1]) { contentEnd -= 1 }
      var contentStart = lineStart
      while contentStart < contentEnd && bytes[contentStart] == 0x20 { contentStart += 1 }
      if contentStart < contentEnd && bytes[contentStart] != 0x23 {  // '#'
        lines.append(Line(number: number, range: lineStart..<contentEnd))
      }
      lineStart = end + 1
    }
    guard !lines.isEmpty else {
      throw LightFMError.parse(
        file: file, line: max(number, 1), "the file is empty: expected \(expecting)")
    }
    self.lines = lines
  }

  /// The delimiter found on the most of the first 50 lines; ties go to `::`, tab, `|`, comma.
  /// Lines with none of them (a single field) fall back to tab.
  func detectDelimiter() -> Delimiter {
    var best = Delimiter.tab
    var bestCount = 0
    for candidate in Delimiter.allCases {
      let pattern = candidate.bytes
      var count = 0
      for line in lines.prefix(50) {
        let slice = bytes[line.range]
        if pattern.count == 1 {
          if slice.contains(pattern[0]) { count += 1 }
        } else if slice.indices.contains(where: { i in
          i + 1 < slice.endIndex && slice[i] == pattern[0] && slice[i + 1] == pattern[1]
        }) {
          count += 1
        }
      }
      if count > bestCount {
        best = candidate
        bestCount = count
      }
    }
    return best
  }

  /// The fields of a line, trimmed, unquoted and decoded (UTF-8, or Latin-1 for such files).
  func fields(of line: Line, delimiter: Delimiter) -> [String] {
    var result: [String] = []
    fields(of: line, delimiter: delimiter, into: &result)
    return result
  }

  /// As `fields(of:delimiter:)`, into a reused array.
  ///
  /// - Complexity: O(line length); an unquoted field is decoded straight from the file's bytes.
  func fields(of line: Line, delimiter: Delimiter, into fields: inout [String]) {
    fields.removeAll(keepingCapacity: true)
    let first = delimiter.bytes[0]
    let second: UInt8? = delimiter.bytes.count > 1 ? delimiter.bytes[1] : nil
    let width = delimiter.bytes.count
    bytes.withUnsafeBufferPointer { buffer in
      let end = line.range.upperBound
      var n = line.range.lowerBound
      @inline(__always) func atDelimiter(_ n: Int) -> Bool {
        buffer[n] == first && (second == nil || (n + 1 < end && buffer[n + 1] == second!))
      }
      while true {
        while n < end && buffer[n] == 0x20 { n += 1 }
        if n < end && buffer[n] == 0x22 {
          // A quoted field: "" inside is a quote; anything after the closing quote is kept.
          var field: [UInt8] = []
          n += 1
          while n < end {
            if buffer[n] == 0x22 {
              if n + 1 < end && buffer[n + 1] == 0x22 {
                field.append(0x22)
                n += 2
                continue
              }
              n += 1
              break
            }
            field.append(buffer[n])
            n += 1
          }
          while n < end && !atDelimiter(n) {
            field.append(buffer[n])
            n += 1
          }
          while let last = field.last, isSpace(last) { field.removeLast() }
          fields.append(field.withUnsafeBufferPointer { decode($0) })
        } else {
          let start = n
          while n < end && !atDelimiter(n) { n += 1 }
          var stop = n
          while stop > start && isSpace(buffer[stop - 1]) { stop -= 1 }
          fields.append(decode(UnsafeBufferPointer(rebasing: buffer[start..<stop])))
        }
        if n >= end { break }
        n += width
      }
    }
  }

  private func decode(_ field: UnsafeBufferPointer<UInt8>) -> String {
    decodeText(field, latin1: isLatin1)
  }
}

/// A space, tab or carriage return: trimmed around lines and fields.
@inline(__always)
func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }

/// `bytes` as text: UTF-8, or Latin-1 (one character a byte) for files that are not UTF-8.
func decodeText(_ bytes: UnsafeBufferPointer<UInt8>, latin1: Bool) -> String {
  if !latin1 { return String(decoding: bytes, as: UTF8.self) }
  var scalars = String.UnicodeScalarView()
  for b in bytes { scalars.append(Unicode.Scalar(b)) }
  return String(scalars)
}
