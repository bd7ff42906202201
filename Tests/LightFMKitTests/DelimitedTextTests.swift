import Foundation
import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// The delimited-text readers: delimiters, headers, encodings, and errors with file and line.
final class DelimitedTextTests: XCTestCase {
  func parse(_ text: String, header: Bool? = nil) throws -> InteractionFile {
    try DelimitedText.parseInteractions(Array(text.utf8), file: "f.txt", header: header)
  }

  func assertParseError(
    _ text: String, contains fragments: [String], file: StaticString = #filePath,
    line: UInt = #line
  ) {
    XCTAssertThrowsError(try parse(text), file: file, line: line) { error in
      guard let error = error as? LightFMError else {
        return XCTFail("not a LightFMError: \(error)", file: file, line: line)
      }
      XCTAssertEqual(error.kind, .parse, file: file, line: line)
      for fragment in fragments {
        XCTAssertTrue(
          error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'",
          file: file, line: line)
      }
    }
  }

  func testDetectsEachDelimiter() throws {
    for (text, delimiter) in [
      ("1\t10\t5\t881250949\n2\t20\t3\t891717742\n", Delimiter.tab),
      ("1,10,5\n2,20,3\n", .comma),
      ("1|10\n2|20\n", .pipe),
      ("1::10::5::978300760\n2::20::3::978302109\n", .doubleColon),
    ] {
      let parsed = try parse(text)
      XCTAssertEqual(parsed.delimiter, delimiter)
      XCTAssertFalse(parsed.hasHeader)
      XCTAssertEqual(parsed.records.map(\.user), ["1", "2"])
      XCTAssertEqual(parsed.records.map(\.item), ["10", "20"])
      XCTAssertEqual(parsed.records.map(\.line), [1, 2])
    }
    let full = try parse("1\t10\t5\t881250949\n")
    XCTAssertEqual(
      full.records,
      [InteractionRecord(user: "1", item: "10", value: 5, timestamp: "881250949", line: 1)])
  }

  func testCommaWinsOverAStrayPipeInOneField() throws {
    let parsed = try parse("u1,Rock|Pop,1\nu2,Jazz,2\nu3,Folk,1\n")
    XCTAssertEqual(parsed.delimiter, .comma)
    XCTAssertEqual(parsed.records[0].item, "Rock|Pop")
  }

  func testHeadersCommentsBlankLinesAndQuotes() throws {
    let parsed = try parse(
      "\u{FEFF}userId,movieId,rating,timestamp\r\n# a comment\n\n"
        + "alice, \"Usual Suspects, The (1995)\" ,4.5,964982703\r\n"
        + "bob,\"say \"\"hi\"\"\",3,964982224\r\n")
    XCTAssertTrue(parsed.hasHeader)
    XCTAssertEqual(parsed.columnCount, 4)
    XCTAssertEqual(parsed.records.map(\.item), ["Usual Suspects, The (1995)", "say \"hi\""])
    XCTAssertEqual(parsed.records.map(\.value), [4.5, 3])
    XCTAssertEqual(parsed.records.map(\.line), [4, 5])
    // Two-column files: a header only when named like one.
    XCTAssertTrue(try parse("user,item\na,b\n").hasHeader)
    XCTAssertFalse(try parse("a,b\nc,d\n").hasHeader)
    XCTAssertFalse(try parse("user,item\na,b\n", header: false).hasHeader)
  }

  func testLatin1FallbackAndUTF8() throws {
    // MovieLens u.item is Latin-1: "Misérables" with é as the single byte 0xE9.
    var bytes = Array("7|Les Mis".utf8) + [0xE9] + Array("rables|1\n8|Tom|2\n".utf8)
    var parsed = try DelimitedText.parseInteractions(bytes, file: "u.item")
    XCTAssertTrue(parsed.isLatin1)
    XCTAssertEqual(parsed.records[0].item, "Les Misérables")
    bytes = Array("7|Les Misérables|1\n".utf8)
    parsed = try DelimitedText.parseInteractions(bytes, file: "u.item")
    XCTAssertFalse(parsed.isLatin1)
    XCTAssertEqual(parsed.records[0].item, "Les Misérables")
  }

  func testErrorsNameFileAndLine() {
    assertParseError("", contains: ["f.txt:1", "empty"])
    assertParseError("\n\n# only comments\n", contains: ["f.txt:3", "empty"])
    assertParseError("1\t2\t3\n4\t5\n", contains: ["f.txt:2", "expected 3 fields", "found 2"])
    assertParseError("1\t2\t3\n4\t5\tfive\n", contains: ["f.txt:2", "'five'"])
    assertParseError("1\t2\tnan\n", contains: ["f.txt:1"])
    assertParseError("justone\n", contains: ["f.txt:1", "expected 2 to 4 fields"])
    assertParseError("a,b,c,d,e\n", contains: ["f.txt:1", "found 5"])
    assertParseError("1,2\n,3\n", contains: ["f.txt:2", "user id is empty"])
    assertParseError("user,item,rating\n", contains: ["only a header"])
    assertParseError("1\t2\n3\t4\u{0}\u{1}\n", contains: ["f.txt:2", "binary"])
    let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04, 0, 0, 1, 2]
    XCTAssertThrowsError(try DelimitedText.parseInteractions(zip, file: "m.csv")) {
      XCTAssertTrue("\($0)".contains(".npz"), "\($0)")
    }
  }

  func testFeatureFiles() throws {
    let text = """
      item_id|features
      10|genre:Drama|year=1995
      20|tag:0.5|genre:Comedy:2
      10|director:Lynch
      30
      """
    let parsed = try DelimitedText.parseFeatures(Array(text.utf8), file: "feat.txt")
    XCTAssertTrue(parsed.hasHeader)
    XCTAssertEqual(parsed.records.map(\.id), ["10", "20", "10", "30"])
    XCTAssertEqual(parsed.records[0].features.map(\.name), ["genre:Drama", "year=1995"])
    XCTAssertEqual(parsed.records[1].features.map(\.name), ["tag", "genre:Comedy"])
    XCTAssertEqual(parsed.records[1].features.map(\.weight), [0.5, 2])
    XCTAssertEqual(parsed.records[3].features, [])
    XCTAssertEqual(parsed.records.map(\.line), [2, 3, 4, 5])
    XCTAssertThrowsError(
      try DelimitedText.parseFeatures(Array("a\tf:inf\n".utf8), file: "feat.txt")
    ) {
      XCTAssertTrue("\($0)".hasPrefix("feat.txt:1:"), "\($0)")
    }
  }

  func testIDLists() throws {
    let ids = try DelimitedText.parseIDs(Array("# users\n7\n\n12,extra\n".utf8), file: "u.txt")
    XCTAssertEqual(ids.map(\.id), ["7", "12"])
    XCTAssertEqual(ids.map(\.line), [2, 4])
  }

  func testReadsMovieLensFiles() throws {
    guard let directory = MovieLens.directory() else { throw XCTSkip(MovieLens.missingMessage) }
    let base = try DelimitedText.readInteractions(
      from: directory.appendingPathComponent("ua.base"))
    XCTAssertEqual(base.records.count, 90570)
    XCTAssertEqual(base.delimiter, .tab)
    XCTAssertEqual(base.columnCount, 4)
    let items = try DelimitedText.readFeatures(from: directory.appendingPathComponent("u.item"))
    XCTAssertTrue(items.isLatin1)
    XCTAssertEqual(items.records.count, 1682)
    XCTAssertEqual(items.delimiter, .pipe)
  }
}
