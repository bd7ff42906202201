import Foundation
import XCTest

/// `lightfm recommend --stream`: the shard mode that Spark pipes partitions through.
extension CLITests {
  /// Parses `user,rank,item,score` lines into keys and scores.
  private func rows(_ lines: [Substring]) -> [String: Float] {
    var out: [String: Float] = [:]
    for line in lines {
      let fields = line.split(separator: ",")
      out[fields[0...2].joined(separator: ",")] = Float(fields[3])
    }
    return out
  }

  func testStreamEqualsRecommendExcludeWithoutHeader() throws {
    let (train, fit) = try fitSmallModelWithItemGroups("small.lfm")
    XCTAssertEqual(fit.status, 0, fit.stderr)
    var items: [String: [String]] = [:]
    var users: [String] = []
    let text = try String(contentsOfFile: train, encoding: .utf8)
    for line in text.split(separator: "\n").dropFirst() {
      let fields = line.split(separator: ",").map(String.init)
      if items[fields[0]] == nil { users.append(fields[0]) }
      items[fields[0], default: []].append(fields[1])
    }
    // Reversed order, batches of 5 that do not divide the 12 users, an unknown item (skipped),
    // Windows line ends, and no newline after the last line.
    let input = users.reversed().enumerated().map { n, user in
      let extra = n == 3 ? " not-an-item" : ""
      return user + "\t" + items[user]!.joined(separator: " ") + extra
    }.joined(separator: "\r\n")
    let stream = try lightfm(
      ["recommend", "--model", "small.lfm", "--stream", "--batch-size", "5", "--top", "3"],
      stdin: input)
    XCTAssertEqual(stream.status, 0, stream.stderr)
    XCTAssertTrue(
      stream.stderr.contains("1 excluded item id(s)") && stream.stderr.contains("line 4"),
      stream.stderr)
    let direct = try lightfm([
      "recommend", "--model", "small.lfm", "--exclude", train, "--top", "3",
    ])
    XCTAssertEqual(direct.status, 0, direct.stderr)
    let streamLines = stream.stdout.split(separator: "\n")
    let directLines = direct.stdout.split(separator: "\n")
    XCTAssertEqual(directLines.first, "user,rank,item,score")
    XCTAssertFalse(streamLines.contains("user,rank,item,score"))
    XCTAssertEqual(streamLines.count, 36)
    XCTAssertTrue(streamLines.first?.hasPrefix("\(users.last!),1,") ?? false)
    let expected = rows(Array(directLines.dropFirst()))
    let found = rows(streamLines)
    XCTAssertEqual(Set(found.keys), Set(expected.keys))
    for (key, score) in expected {
      XCTAssertEqual(found[key] ?? .nan, score, accuracy: 1e-5, key)
    }

    // A user alone on its line, with or without the tab, has nothing excluded.
    let bare = try lightfm(
      ["recommend", "--model", "small.lfm", "--stream", "--top", "10"], stdin: "a1\nb1\t\n")
    XCTAssertEqual(bare.status, 0, bare.stderr)
    XCTAssertEqual(bare.stdout.split(separator: "\n").count, 20)
  }

  func testStreamBadLineStopsWithItsNumberAndContent() throws {
    XCTAssertEqual(try fitSmallModelWithItemGroups("small.lfm").run.status, 0)
    let command = ["recommend", "--model", "small.lfm", "--stream", "--batch-size", "1"]
    assertFails(
      try lightfm(command, stdin: "a1\tx1\nb1\tx2\ty1\n"),
      ["<stdin>:2:", "found 3 tab-separated fields", "in line 'b1\\tx2\\ty1'"])
    assertFails(
      try lightfm(command, stdin: "a1\nzz\tx1\n"),
      ["<stdin>:2:", "unknown user id 'zz'", "in line 'zz\\tx1'"])
    assertFails(
      try lightfm(command, stdin: "a1\tx1\nb1\na1\n"),
      ["<stdin>:3:", "the user 'a1' appears on an earlier line"])
    assertFails(try lightfm(command, stdin: "a1\n\nb1\n"), ["<stdin>:2:", "user id is empty"])
    let train = try smallTrainingFile()
    assertFails(
      try lightfm(command + ["--exclude", train], stdin: "a1\n"), ["drop --exclude"])
  }
}
