import Foundation
import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// `lightfm recommend fold-in`, `recommend new-users`, `rank-new-items` and `fit --resume`:
/// users and items the model has never seen.
extension CLITests {
  func testRecommendFoldsInNewUsersFromAFile() throws {
    var run = try fitSmallModel(
      "small.lfm", ["--loss", "warp", "--epochs", "30", "--components", "8"]
    ).run
    XCTAssertEqual(run.status, 0, run.stderr)
    // n1 likes x's, n2 likes y's; n1's rating-2 line and the unknown item are not positives.
    let arrivals = try write(
      "new.csv",
      "user,item,rating\nn1,x1,5\nn1,x2,4\nn1,y3,2\nn2,y1,5\nn2,y2,5\nn2,zz,5\n")
    run = try lightfm([
      "recommend", "fold-in", "--model", "small.lfm", "--interactions", arrivals,
      "--min-rating", "4", "--top", "3", "--threads", "1",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(run.stderr.contains("1 line(s)"), run.stderr)
    XCTAssertTrue(run.stderr.contains("folded in 2 user(s)"), run.stderr)
    let lines = run.stdout.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
    XCTAssertEqual(lines.first, ["user", "rank", "item", "score"])
    XCTAssertEqual(lines.count, 7, run.stdout)
    for line in lines.dropFirst() {
      XCTAssertTrue(["n1", "n2"].contains(line[0]), run.stdout)
      XCTAssertEqual(line[2].first, line[0] == "n1" ? "x" : "y", run.stdout)
      let own = line[0] == "n1" ? ["x1", "x2", "y3"] : ["y1", "y2"]
      XCTAssertFalse(own.contains(line[2]), "own items excluded: \(run.stdout)")
    }
    // The model file is not changed: the new users are still unknown to it.
    run = try lightfm(["recommend", "--model", "small.lfm", "--users", "-"], stdin: "n1\n")
    assertFails(run, ["unknown user id 'n1'"])

    // Fold-in serves the users of its own file: a --users list is not an option of it.
    assertFails(
      try lightfm([
        "recommend", "fold-in", "--model", "small.lfm", "--interactions", arrivals,
        "--users", "u",
      ]),
      ["Unknown option '--users'"])
    let nothing = try write("nothing.csv", "n3,unknown-item\n")
    assertFails(
      try lightfm(["recommend", "fold-in", "--model", "small.lfm", "--interactions", nothing]),
      ["nothing.csv", "nobody to fold in"])
  }

  func testRecommendForNewUsersFromFeaturesAlone() throws {
    let train = try smallTrainingFile()
    let groups = try write(
      "users.txt", (1...6).map { "a\($0)|group:a\nb\($0)|group:b" }.joined(separator: "\n"))
    var run = try lightfm([
      "fit", "--train", train, "--user-features", groups, "--min-rating", "4", "--epochs", "30",
      "--components", "8", "--seed", "1", "--threads", "1", "--model", "groups.lfm",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    let newcomers = try write("new.txt", "n1|group:a\nn2|group:b\n")
    run = try lightfm([
      "recommend", "new-users", "--model", "groups.lfm", "--features", newcomers, "--top", "3",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    let lines = run.stdout.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
    XCTAssertEqual(lines.count, 7, run.stdout)
    for line in lines.dropFirst() {
      XCTAssertEqual(line[2].first, line[0] == "n1" ? "x" : "y", run.stdout)
    }
    // Fold-in on this model with user features: a new user's row holds its own feature alone.
    let arrivals = try write("arrivals.csv", "n1,x1,5\nn1,x3,5\nn2,y2,5\nn2,y4,5\n")
    run = try lightfm([
      "recommend", "fold-in", "--model", "groups.lfm", "--interactions", arrivals, "--top", "2",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(run.stderr.contains("2 new user(s) are represented"), run.stderr)
    let folded = run.stdout.split(separator: "\n").map {
      $0.split(separator: ",").map(String.init)
    }
    XCTAssertEqual(folded.count, 5, run.stdout)
    for line in folded.dropFirst() {
      XCTAssertEqual(line[2].first, line[0] == "n1" ? "x" : "y", run.stdout)
    }
    let unknown = try write("odd.txt", "n1|group:a\nn3|group:c\n")
    assertFails(
      try lightfm(["recommend", "new-users", "--model", "groups.lfm", "--features", unknown]),
      ["odd.txt:2", "unknown user feature 'group:c'"])
  }

  func testNewItemRanksFromFeaturesAlone() throws {
    var run = try fitSmallModelWithItemGroups("items.lfm").run
    XCTAssertEqual(run.status, 0, run.stderr)
    let arrivals = try write("new-items.txt", "x9|group:x\n")
    run = try lightfm(
      ["rank-new-items", "--model", "items.lfm", "--features", arrivals, "--users", "-"],
      stdin: "a1\nb1\n")
    XCTAssertEqual(run.status, 0, run.stderr)
    let lines = run.stdout.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
    XCTAssertEqual(lines.first, ["item", "user", "rank", "score"])
    XCTAssertEqual(lines.count, 3, run.stdout)
    let rank = Dictionary(uniqueKeysWithValues: lines.dropFirst().map { ($0[1], Int($0[2])!) })
    XCTAssertLessThan(try XCTUnwrap(rank["a1"]), try XCTUnwrap(rank["b1"]), run.stdout)
    XCTAssertLessThan(try XCTUnwrap(rank["a1"]), 5, "an x-like item near the top for a1")
    let odd = try write("odd-items.txt", "z1|group:z\n")
    assertFails(
      try lightfm(["rank-new-items", "--model", "items.lfm", "--features", odd]),
      ["odd-items.txt:1", "unknown item feature 'group:z'"])
  }

  func testFitResumeGrowsTheModelAndKeepsTraining() throws {
    var run = try fitSmallModel("small.lfm", ["--epochs", "20", "--components", "8"]).run
    XCTAssertEqual(run.status, 0, run.stderr)
    // A new user who likes x's, and a new item x6 liked by the a's.
    let more = try write(
      "more.csv",
      "user,item,rating\nn1,x1,5\nn1,x2,5\nn1,x4,5\n"
        + (1...6).map { "a\($0),x6,5" }.joined(separator: "\n") + "\n")
    run = try lightfm([
      "fit", "--resume", "small.lfm", "--train", more, "--min-rating", "4", "--epochs", "20",
      "--threads", "1", "--model", "grown.lfm",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(run.stderr.contains("1 new user(s), 1 new item(s)"), run.stderr)
    run = try lightfm(
      ["recommend", "--model", "grown.lfm", "--users", "-", "--top", "2", "--exclude", more],
      stdin: "n1\n")
    XCTAssertEqual(run.status, 0, run.stderr)
    let lines = run.stdout.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
    XCTAssertEqual(lines.count, 3, run.stdout)
    XCTAssertTrue(lines.dropFirst().allSatisfy { $0[2].hasPrefix("x") }, run.stdout)
    run = try lightfm(["similar", "--model", "grown.lfm", "--item", "x6", "--top", "3"])
    XCTAssertEqual(run.status, 0, run.stderr)
    assertFails(
      try lightfm([
        "fit", "--resume", "small.lfm", "--train", more, "--item-features", more,
        "--model", "x.lfm",
      ]), ["drop --user-features and --item-features"])
  }

  /// `fit --resume` trains through the same path as `fit`, so a WARP-kOS model meets a weight
  /// column with the same refusal instead of silently dropping the weights.
  func testFitResumeRefusesSampleWeightsWithWarpKOSAsFitDoes() throws {
    var run = try fitSmallModel(
      "kos.lfm", ["--loss", "warp-kos", "--epochs", "2", "--components", "4"]
    ).run
    XCTAssertEqual(run.status, 0, run.stderr)
    let weighted = try write("weighted.csv", "a1,x1,2\nb1,y1,3\nn1,x2,0.5\n")
    run = try lightfm([
      "fit", "--resume", "kos.lfm", "--train", weighted, "--epochs", "1", "--threads", "1",
      "--model", "resumed.lfm",
    ])
    assertFails(run, ["warp-kos", "--min-rating"])
    XCTAssertFalse(exists("resumed.lfm"))
    // Read as ratings, the same file resumes.
    run = try lightfm([
      "fit", "--resume", "kos.lfm", "--train", weighted, "--min-rating", "1", "--epochs", "1",
      "--threads", "1", "--model", "resumed.lfm",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
  }

  /// MovieLens: fit without a tenth of the users, fold them in from their ua.base lines.
  func testMovieLensFoldInRecommend() throws {
    guard let ml = MovieLens.directory() else { throw XCTSkip(MovieLens.missingMessage) }
    let base = try String(
      contentsOf: ml.appendingPathComponent("ua.base"), encoding: .utf8
    ).split(separator: "\n")
    let isHeld = { (line: Substring) in Int(line.prefix { $0 != "\t" })! % 10 == 0 }
    let kept = try write("kept.tsv", base.filter { !isHeld($0) }.joined(separator: "\n") + "\n")
    let held = try write("held.tsv", base.filter(isHeld).joined(separator: "\n") + "\n")
    var run = try lightfm([
      "fit", "--train", kept, "--min-rating", "4", "--loss", "warp", "--epochs", "10",
      "--seed", "42", "--model", "kept.lfm",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    run = try lightfm([
      "recommend", "fold-in", "--model", "kept.lfm", "--interactions", held, "--min-rating", "4",
      "--format", "jsonl",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    let objects = try run.stdout.split(separator: "\n").map {
      try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    XCTAssertEqual(objects.count, 94)
    let heldLines = Set(base.filter(isHeld).map { $0.split(separator: "\t").prefix(2) })
    for object in objects {
      let user = try XCTUnwrap(object["user"] as? String)
      XCTAssertEqual(Int(user)! % 10, 0)
      let items = try XCTUnwrap(object["items"] as? [[String: Any]])
      XCTAssertEqual(items.count, 10)
      for item in items {
        let id = try XCTUnwrap(item["item"] as? String)
        XCTAssertFalse(heldLines.contains([Substring(user), Substring(id)]), "\(user) \(id)")
      }
    }
  }
}
