import Foundation
import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// `DelimitedText.streamInteractions` reads what `parseInteractions` reads, whatever the chunk
/// size, and fails with the same file and line.
final class InteractionStreamTests: XCTestCase {
  private var directory: URL!

  override func setUpWithError() throws {
    directory = try makeTemporaryDirectory("InteractionStreamTests")
  }

  private func write(_ bytes: [UInt8]) throws -> URL {
    let url = directory.appendingPathComponent("f-\(UUID().uuidString).txt")
    try Data(bytes).write(to: url)
    return url
  }

  /// Streams `bytes` with several chunk sizes and checks each against the whole-file reader.
  private func assertSame(
    _ bytes: [UInt8], header: Bool? = nil, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let url = try write(bytes)
    let whole = try DelimitedText.parseInteractions(bytes, file: url.path, header: header)
    for chunk in [16, 17, 64, 1 << 22] {
      let s = try DelimitedText.streamInteractions(from: url, header: header, chunkBytes: chunk)
      XCTAssertEqual(s.delimiter, whole.delimiter, "chunk \(chunk)", file: file, line: line)
      XCTAssertEqual(s.hasHeader, whole.hasHeader, "chunk \(chunk)", file: file, line: line)
      XCTAssertEqual(s.columnCount, whole.columnCount, "chunk \(chunk)", file: file, line: line)
      XCTAssertEqual(s.isLatin1, whole.isLatin1, "chunk \(chunk)", file: file, line: line)
      XCTAssertEqual(
        s.users.map { s.userIDs[Int($0)] }, whole.records.map(\.user), "chunk \(chunk)",
        file: file, line: line)
      XCTAssertEqual(
        s.items.map { s.itemIDs[Int($0)] }, whole.records.map(\.item), "chunk \(chunk)",
        file: file, line: line)
      XCTAssertEqual(
        s.values, whole.records.compactMap(\.value), "chunk \(chunk)", file: file, line: line)
      XCTAssertEqual(Set(s.userIDs).count, s.userIDs.count, file: file, line: line)
      XCTAssertEqual(s.header, whole.header, "chunk \(chunk)", file: file, line: line)
      XCTAssertEqual(s.headerLine, whole.headerLine, "chunk \(chunk)", file: file, line: line)
      XCTAssertEqual(
        (0..<s.count).map { s.line(ofEntry: $0) }, whole.records.map(\.line), "chunk \(chunk)",
        file: file, line: line)
    }
  }

  func testMatchesTheWholeFileReader() throws {
    try assertSame(Array("1\t10\t5\t881250949\n2\t20\t3\t891717742\n1\t20\t4\t8\n".utf8))
    try assertSame(Array("1,10,5\n2,20,3.5\n".utf8))
    // Trailing tabs are trimmed, not taken for the delimiter.
    try assertSame(Array("1,10,5\t\n2,20,3\t\n".utf8))
    try assertSame(Array("1|10\n2|20".utf8))  // no final newline
    try assertSame(Array("1::10::5::978300760\n2::20::3::978302109\n".utf8))
    try assertSame(
      Array(
        ("\u{FEFF}userId,movieId,rating,timestamp\r\n# a comment\n\n"
          + "alice, \"Usual Suspects, The (1995)\" ,4.5,964982703\r\n"
          + "bob,\"say \"\"hi\"\"\",3,964982224\r\n  \n").utf8))
    try assertSame(Array("user,item\na,b\n".utf8))
    try assertSame(Array("user,item\na,b\n".utf8), header: false)
    try assertSame(Array("7|Les Mis".utf8) + [0xE9] + Array("rables|1\n8|Tom|2\n".utf8))
    try assertSame(Array("u|a-very-long-item-id-of-more-than-eight-bytes|-0.25\n".utf8))
  }

  func testLineNumbersSkipCommentsBlankLinesAndTheHeader() throws {
    let text =
      "# made by hand\nuser\titem\trating\n\n1\t10\t5\n2\t20\t3\n# a gap\n\n\n3\t30\t1\n4\t40\t2\n"
    try assertSame(Array(text.utf8))
    let s = try DelimitedText.streamInteractions(from: try write(Array(text.utf8)))
    XCTAssertEqual(s.header, ["user", "item", "rating"])
    XCTAssertEqual(s.headerLine, 2)
    XCTAssertEqual((0..<4).map { s.line(ofEntry: $0) }, [4, 5, 9, 10])
    XCTAssertEqual(s.jumps.entries, [0, 2], "one pair per gap")
  }

  func testAByteSourceReadsWhatTheFileReads() throws {
    var text = "userId,movieId,rating\n"
    for n in 0..<500 { text += "u\(n % 37),i\(n % 91),\(n % 5)\n" }
    let bytes = Array(text.utf8)
    let url = try write(bytes)
    let file = try DelimitedText.streamInteractions(from: url, chunkBytes: 64)
    // A source that gives at most 7 bytes a call, as a pipe may.
    var offset = 0
    var calls = 0
    let piped = try DelimitedText.streamInteractions(
      file: "<stdin>", size: nil, chunkBytes: 64, progress: { read, lines in
        calls += 1
        XCTAssertLessThanOrEqual(read, bytes.count)
        XCTAssertLessThanOrEqual(lines, 500)
      },
      read: { buffer in
        let n = min(7, buffer.count, bytes.count - offset)
        buffer.copyBytes(from: bytes[offset..<offset + n])
        offset += n
        return n
      })
    XCTAssertGreaterThan(calls, 1)
    XCTAssertEqual(piped.path, "<stdin>")
    XCTAssertEqual(piped.header, file.header)
    XCTAssertEqual(piped.userIDs, file.userIDs)
    XCTAssertEqual(piped.itemIDs, file.itemIDs)
    XCTAssertEqual(piped.users, file.users)
    XCTAssertEqual(piped.items, file.items)
    XCTAssertEqual(piped.values, file.values)
  }

  func testAMatrixBecomesColumnsWithItsNumbersAsIDs() throws {
    let coo = try COOMatrix(
      rows: 5, columns: 4, rowIndices: [3, 0, 3, 4], columnIndices: [2, 2, 0, 1],
      values: [1, 2, 3, 4])
    let s = InteractionColumns(coo, path: "m.npz")
    XCTAssertEqual(s.userIDs, ["3", "0", "4"])
    XCTAssertEqual(s.itemIDs, ["2", "0", "1"])
    XCTAssertEqual(s.users, [0, 1, 0, 2])
    XCTAssertEqual(s.items, [0, 0, 1, 2])
    XCTAssertEqual(s.values, [1, 2, 3, 4])
    XCTAssertEqual(s.columnCount, 3)
    XCTAssertEqual(s.line(ofEntry: 3), 4)
  }

  func testManyLinesAcrossChunks() throws {
    var rng = SplitMix64(seed: 3)
    var text = "user\titem\trating\n"
    for _ in 0..<3_000 {
      let user = rng.next() % 300
      let item = rng.next() % 2_000
      let long = rng.next() % 7 == 0 ? "-with-a-long-suffix" : ""
      let rating = ["1", "2.5", "0.125", "1e-3", "4", "-3"][Int(rng.next() % 6)]
      text += "u\(user)\ti\(item)\(long)\t\(rating)\n"
    }
    try assertSame(Array(text.utf8))
    let url = try write(Array(text.utf8))
    let s = try DelimitedText.streamInteractions(from: url)
    let coo = s.matrix()
    XCTAssertEqual(coo.shape.rows, s.userIDs.count)
    XCTAssertEqual(coo.shape.columns, s.itemIDs.count)
    XCTAssertEqual(coo.nnz, 3_000)
    XCTAssertEqual(coo.values, s.values)
  }

  func testErrorsNameFileAndLine() throws {
    let cases: [(String, [String])] = [
      ("", [":1:", "empty"]),
      ("\n\n# only comments\n", [":3:", "empty"]),
      ("1\t2\t3\n4\t5\n", [":2:", "expected 3 fields", "found 2"]),
      ("1\t2\t3\n4\t5\tfive\n", [":2:", "'five'"]),
      ("1\t2\tnan\n", [":1:", "not a finite number"]),
      ("justone\n", [":1:", "expected 2 to 4 fields"]),
      ("a,b,c,d,e\n", [":1:", "found 5"]),
      ("1,2\n,3\n", [":2:", "user id is empty"]),
      ("1,2\n3,\n", [":2:", "item id is empty"]),
      ("user,item,rating\n", ["only a header"]),
      ("1\t2\n3\t4\u{0}\u{1}\n", [":2:", "binary"]),
    ]
    for (text, fragments) in cases {
      let url = try write(Array(text.utf8))
      for chunk in [16, 1 << 22] {
        XCTAssertThrowsError(
          try DelimitedText.streamInteractions(from: url, chunkBytes: chunk), text
        ) { error in
          guard let error = error as? LightFMError else {
            return XCTFail("not a LightFMError: \(error)")
          }
          XCTAssertEqual(error.kind, .parse, text)
          XCTAssertTrue(error.message.hasPrefix(url.path), error.message)
          for fragment in fragments {
            XCTAssertTrue(
              error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'")
          }
        }
      }
    }
    XCTAssertThrowsError(
      try DelimitedText.streamInteractions(from: directory.appendingPathComponent("missing"))
    ) { XCTAssertEqual(($0 as? LightFMError)?.kind, .io) }
  }
}
