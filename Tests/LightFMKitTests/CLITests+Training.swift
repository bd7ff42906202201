import Foundation
import XCTest

/// `lightfm fit` with the loss on its progress lines, `--validate`, `--patience` and
/// `--history`.
extension CLITests {
  /// The held-out pairs of `smallTrainingFile()`: a's with x's and b's with y's where
  /// (u + i) % 3 == 0, none of them in the training file.
  func smallValidationFile() throws -> String {
    var lines = ["user,item,rating"]
    for u in 1...6 {
      for i in 1...5 where (u + i) % 3 == 0 {
        lines.append("a\(u),x\(i),5")
        lines.append("b\(u),y\(i),5")
      }
    }
    return try write("valid.csv", lines.joined(separator: "\n") + "\n")
  }

  func rows(_ name: String) throws -> [[String]] {
    try String(contentsOfFile: path(name), encoding: .utf8).split(separator: "\n")
      .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
  }

  func testFitReportsTheLossAndWritesTheValidationHistory() throws {
    let valid = try smallValidationFile()
    let (_, run) = try fitSmallModel(
      "v.lfm",
      [
        "--epochs", "5", "--validate", valid, "--validate-every", "2", "--validate-k", "3",
        "--history", "history.csv",
      ])
    XCTAssertEqual(run.status, 0, run.stderr)
    // One line per validated epoch (2, 4 and the last, 5); the others are progress, which a
    // log gets at most every few seconds.
    let lines = run.stderr.split(separator: "\n").filter { $0.hasPrefix("fit: epoch") }
    XCTAssertEqual(lines.count, 3, run.stderr)
    XCTAssertTrue(lines.allSatisfy { $0.contains("  loss ") }, run.stderr)
    XCTAssertEqual(lines.filter { $0.contains("precision@3 ") }.count, 3, run.stderr)
    XCTAssertTrue(run.stderr.contains("fit: best precision@3 "), run.stderr)

    let table = try rows("history.csv")
    XCTAssertEqual(
      table.first,
      ["epoch", "seconds", "loss", "k", "precision_at_k", "recall_at_k", "auc", "ndcg_at_k"])
    XCTAssertEqual(table.dropFirst().map { $0[0] }, ["2", "4", "5"])
    var previous = 0.0
    for row in table.dropFirst() {
      let values = row.map { Double($0) }
      XCTAssertTrue(values.allSatisfy { $0 != nil }, "\(row)")
      XCTAssertGreaterThan(values[1]!, previous, "seconds grow")
      previous = values[1]!
      XCTAssertGreaterThan(values[2]!, 0, "loss")
      XCTAssertEqual(values[3], 3)
      for metric in values[4...] { XCTAssertTrue((0...1).contains(metric!), "\(row)") }
    }

    // JSON lines when the name says so; without --validate, every epoch with its loss.
    let plain = try lightfm([
      "fit", "--train", path("train.csv"), "--min-rating", "4", "--seed", "1", "--threads", "1",
      "--epochs", "3", "--model", "p.lfm", "--history", "loss.jsonl",
    ])
    XCTAssertEqual(plain.status, 0, plain.stderr)
    let objects = try String(contentsOfFile: path("loss.jsonl"), encoding: .utf8)
      .split(separator: "\n").map {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
      }
    XCTAssertEqual(objects.map { $0["epoch"] as? Int }, [1, 2, 3])
    XCTAssertEqual(Set(objects[0].keys).count, 8)
    XCTAssertNotNil(objects[0]["loss"] as? Double)
    XCTAssertTrue(objects[0]["auc"] is NSNull, "no validation: null metrics")
  }

  func testPatienceSavesTheBestEpochsModel() throws {
    let valid = try smallValidationFile()
    let (train, run) = try fitSmallModel(
      "best.lfm",
      [
        "--epochs", "40", "--learning-rate", "0.3", "--validate", valid, "--patience", "2",
        "--validate-k", "3", "--monitor", "ndcg@k", "--history", "h.csv",
      ])
    XCTAssertEqual(run.status, 0, run.stderr)
    let table = Array(try rows("h.csv").dropFirst())
    let ndcg = table.map { Double($0[7])! }
    let best = ndcg.firstIndex(of: ndcg.max()!)!
    if table.count < 40 {
      XCTAssertTrue(run.stderr.contains("keeping epoch \(table[best][0])"), run.stderr)
      XCTAssertEqual(table.count, best + 3, "stopped two evaluations after the best")
    }
    // The saved model is the best epoch's: evaluated afresh it gives that row's metrics.
    let evaluated = try lightfm([
      "evaluate", "--model", "best.lfm", "--test", valid, "--train", train, "--min-rating", "4",
      "--k", "3", "--threads", "1", "--json",
    ])
    XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
    let metrics = try XCTUnwrap(
      try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])
    XCTAssertEqual(try XCTUnwrap(metrics["ndcg_at_k"] as? Double), ndcg[best], accuracy: 1e-6)
    XCTAssertEqual(
      try XCTUnwrap(metrics["precision_at_k"] as? Double), Double(table[best][4])!,
      accuracy: 1e-6)
  }

  func testValidationOptionsAreChecked() throws {
    let train = try smallTrainingFile()
    let valid = try smallValidationFile()
    let base = ["fit", "--train", train, "--model", "m.lfm"]
    assertFails(try lightfm(base + ["--patience", "2"]), ["--patience needs --validate"])
    assertFails(try lightfm(base + ["--validate", valid, "--monitor", "mrr"]), ["monitor"])
    assertFails(
      try lightfm(base + ["--validate", valid, "--validate-every", "0"]), ["--validate-every"])
    // A validation file that repeats training interactions would flatter the model.
    assertFails(
      try lightfm(base + ["--validate", train, "--min-rating", "4"]),
      ["train.csv: the validation and training interactions share"])
    XCTAssertFalse(exists("m.lfm"))
  }
}
