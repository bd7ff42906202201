import Foundation
import XCTest

@testable import LightFMKit

/// `--no-item-bias`, `--popularity-penalty` and `--popularity-from` on `recommend` and
/// `evaluate`, and evaluate's MAP@k and coverage.
extension CLITests {
  func testEvaluateReportsMAPAndCoverageAndTakesThePopularityOptions() throws {
    let (train, fitted) = try fitSmallModelWithItemGroups("small.lfm")
    XCTAssertEqual(fitted.status, 0, fitted.stderr)
    func evaluate(_ extra: [String]) throws -> [String: Any] {
      let run = try lightfm(
        ["evaluate", "--model", "small.lfm", "--test", train, "--min-rating", "4", "--json"]
          + extra)
      XCTAssertEqual(run.status, 0, run.stderr)
      return try XCTUnwrap(
        try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    }
    let plain = try evaluate([])
    let map = try XCTUnwrap(plain["map_at_k"] as? Double)
    let coverage = try XCTUnwrap(plain["coverage"] as? Double)
    XCTAssertTrue((0...1).contains(map), "\(plain)")
    // 10 items, top-10 lists without leaving anything out: every item is listed.
    XCTAssertEqual(coverage, 1)
    let text = try lightfm(
      ["evaluate", "--model", "small.lfm", "--test", train, "--min-rating", "4", "--k", "3"])
    XCTAssertTrue(text.stdout.contains("MAP@3"), text.stdout)
    XCTAssertTrue(text.stdout.contains("coverage"), text.stdout)

    // The penalty counts the --popularity-from lines; without a source it is an error.
    // Read as --train is: with --min-rating, the third column is a rating.
    let counts = try write("counts.csv", "a1,x1,5\na2,x1,4\nb1,x1,5\nb2,x1,1\n")
    let penalised = try evaluate([
      "--no-item-bias", "--popularity-penalty", "1", "--popularity-from", counts, "--k", "1",
    ])
    XCTAssertNotNil(penalised["map_at_k"] as? Double)
    assertFails(
      try lightfm([
        "evaluate", "--model", "small.lfm", "--test", train, "--popularity-penalty", "0.5",
      ]), ["--popularity-penalty", "--train"])
    assertFails(
      try lightfm([
        "evaluate", "--model", "small.lfm", "--test", train, "--popularity-from", counts,
      ]), ["--popularity-from"])
    assertFails(
      try lightfm([
        "evaluate", "--model", "small.lfm", "--test", train, "--train", train,
        "--popularity-penalty", "-1",
      ]), ["--popularity-penalty"])
  }

  func testRecommendWithAPopularityPenaltyPushesThePopularItemDown() throws {
    let (train, fitted) = try fitSmallModelWithItemGroups("small.lfm")
    XCTAssertEqual(fitted.status, 0, fitted.stderr)
    // a1 did not train on x2 and x5, its group's items: they lead its list.
    func topItems(_ extra: [String]) throws -> [String] {
      let run = try lightfm(
        ["recommend", "--model", "small.lfm", "--users", "-", "--top", "3", "--exclude", train]
          + extra, stdin: "a1\n")
      XCTAssertEqual(run.status, 0, run.stderr)
      return run.stdout.split(separator: "\n").dropFirst().map {
        String($0.split(separator: ",")[2])
      }
    }
    let plain = try topItems([])
    XCTAssertEqual(Set(plain.prefix(2)), ["x2", "x5"], "\(plain)")
    XCTAssertEqual(try topItems(["--popularity-penalty", "0"]), plain)
    // x2 counted twice in the file: a large penalty sends it below every other item.
    let counts = try write("counts.csv", "a3,x2\nb3,x2\n")
    let penalised = try topItems([
      "--popularity-penalty", "1000", "--popularity-from", counts,
    ])
    XCTAssertFalse(penalised.contains("x2"), "\(penalised)")
    XCTAssertEqual(penalised.first, "x5")
    // Counted from --exclude, every trained item is penalised; the lists still come out.
    XCTAssertEqual(try topItems(["--no-item-bias", "--popularity-penalty", "0.3"]).count, 3)
    assertFails(
      try lightfm(["recommend", "--model", "small.lfm", "--popularity-penalty", "1"]),
      ["--exclude"])
    // --stream takes the counts from --popularity-from: x2 is pushed down there too.
    let streamed = try lightfm(
      [
        "recommend", "--model", "small.lfm", "--stream", "--top", "3",
        "--popularity-penalty", "1000", "--popularity-from", counts,
      ], stdin: "a1\tx1 x3 x4 y2\n")
    XCTAssertEqual(streamed.status, 0, streamed.stderr)
    let streamedItems = streamed.stdout.split(separator: "\n").map {
      String($0.split(separator: ",")[2])
    }
    XCTAssertEqual(streamedItems, penalised, streamed.stdout)
  }
}
