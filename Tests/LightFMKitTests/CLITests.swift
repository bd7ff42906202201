import Foundation
import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// End-to-end tests of the `lightfm` binary: every command on small files, bad input, and the
/// MovieLens protocol (fit on ua.base with ratings >= 4, evaluate on ua.test, recommend).
final class CLITests: XCTestCase {
  var directory: URL!

  override func setUpWithError() throws {
    directory = try makeTemporaryDirectory("lightfm-cli")
  }

  // MARK: - Running the binary

  struct Run {
    let status: Int32
    let stdout: String
    let stderr: String
  }

  @discardableResult
  func lightfm(_ arguments: [String], stdin: String? = nil) throws -> Run {
    let process = Process()
    process.executableURL = try LightFMSubprocess.executable()
    process.arguments = arguments
    process.currentDirectoryURL = directory
    // Standard error goes to a file, so that the two streams cannot block each other.
    let errURL = directory.appendingPathComponent(".stderr-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let err = try FileHandle(forWritingTo: errURL)
    defer { try? FileManager.default.removeItem(at: errURL) }
    let out = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    try err.close()
    let errData = try Data(contentsOf: errURL)
    return Run(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }

  func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  func write(_ name: String, _ text: String) throws -> String {
    try Data(text.utf8).write(to: directory.appendingPathComponent(name))
    return path(name)
  }

  func write(_ name: String, bytes: [UInt8]) throws -> String {
    try Data(bytes).write(to: directory.appendingPathComponent(name))
    return path(name)
  }

  func exists(_ name: String) -> Bool {
    FileManager.default.fileExists(atPath: path(name))
  }

  /// Asserts a failing run: non-zero status, every fragment in the error, nothing on stdout.
  func assertFails(
    _ run: Run, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertNotEqual(run.status, 0, "expected a failure", file: file, line: line)
    for fragment in fragments {
      XCTAssertTrue(
        run.stderr.contains(fragment), "stderr lacks '\(fragment)': \(run.stderr)",
        file: file, line: line)
    }
  }

  /// Two planted groups: users a* like items x*, users b* like items y*.
  func smallTrainingFile() throws -> String {
    var lines = ["user,item,rating"]
    for u in 1...6 {
      for i in 1...5 where (u + i) % 3 != 0 {
        lines.append("a\(u),x\(i),5")
        lines.append("b\(u),y\(i),4")
      }
      lines.append("a\(u),y\(u % 5 + 1),1")
    }
    return try write("train.csv", lines.joined(separator: "\n") + "\n")
  }

  /// `lightfm fit` on `smallTrainingFile()`, ratings >= 4 as positives, seed 1, one thread,
  /// with `options` added, written to `model`; returns the training file and the run.
  func fitSmallModel(_ model: String, _ options: [String]) throws -> (train: String, run: Run) {
    let train = try smallTrainingFile()
    let run = try lightfm(
      [
        "fit", "--train", train, "--min-rating", "4", "--seed", "1", "--threads", "1",
        "--model", model,
      ] + options)
    return (train, run)
  }

  /// `fitSmallModel` with the item features group:x and group:y (d = 8, 30 epochs).
  func fitSmallModelWithItemGroups(_ model: String) throws -> (train: String, run: Run) {
    let features = try write(
      "items.txt", (1...5).map { "x\($0)|group:x\ny\($0)|group:y" }.joined(separator: "\n"))
    return try fitSmallModel(
      model, ["--item-features", features, "--epochs", "30", "--components", "8"])
  }

  // MARK: - Help

  func testEveryCommandHasHelpOnEveryOption() throws {
    let commands = [
      "fit", "evaluate", "recommend", "recommend known-users", "recommend fold-in",
      "recommend new-users", "rank-new-items", "similar", "export", "import", "demo",
    ]
    for command in commands {
      let run = try lightfm(command.split(separator: " ").map(String.init) + ["--help"])
      XCTAssertEqual(run.status, 0, command)
      XCTAssertTrue(run.stdout.contains("USAGE: lightfm \(command)"), command)
      // Every option line carries a description after its name, or (a long name) on the next
      // line, indented.
      let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
      for (n, line) in lines.enumerated() where line.hasPrefix("  --") {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        let next = n + 1 < lines.count ? lines[n + 1] : ""
        let wrapped = next.hasPrefix("        ") && !next.allSatisfy { $0 == " " }
        XCTAssertTrue(parts.count > 2 || wrapped, "no help for '\(line)' in \(command)")
      }
    }
  }

  // MARK: - Small files, every command

  func testEveryCommandOnSmallFiles() throws {
    let fitted = try fitSmallModelWithItemGroups("small.lfm")
    let train = fitted.train
    var run = fitted.run
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(run.stderr.contains("epoch 30/30"), run.stderr)
    XCTAssertTrue(exists("small.lfm"))

    run = try lightfm([
      "evaluate", "--model", "small.lfm", "--test", train, "--min-rating", "4", "--json",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    let metrics = try XCTUnwrap(
      try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    for key in ["precision_at_k", "recall_at_k", "auc", "reciprocal_rank", "ndcg_at_k"] {
      XCTAssertNotNil(metrics[key] as? Double, key)
    }
    XCTAssertEqual(metrics["users"] as? Int, 12)

    // Users on stdin, CSV to stdout: a's are recommended x's they did not train on.
    run = try lightfm(
      ["recommend", "--model", "small.lfm", "--users", "-", "--top", "2", "--exclude", train],
      stdin: "a1\nb2\n")
    XCTAssertEqual(run.status, 0, run.stderr)
    let lines = run.stdout.split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.first, "user,rank,item,score")
    XCTAssertEqual(lines.count, 5)
    XCTAssertTrue(lines[1].hasPrefix("a1,1,"))
    // `recommend` alone is `recommend known-users`.
    let explicit = try lightfm(
      [
        "recommend", "known-users", "--model", "small.lfm", "--users", "-", "--top", "2",
        "--exclude", train,
      ], stdin: "a1\nb2\n")
    XCTAssertEqual(explicit.status, 0, explicit.stderr)
    XCTAssertEqual(explicit.stdout, run.stdout)

    run = try lightfm([
      "recommend", "--model", "small.lfm", "--format", "jsonl", "--output", "recs.jsonl",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertEqual(run.stdout, "")
    let jsonl = try String(contentsOfFile: path("recs.jsonl"), encoding: .utf8)
    let objects = try jsonl.split(separator: "\n").map {
      try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
    XCTAssertEqual(objects.count, 12)
    XCTAssertEqual((objects[0]["items"] as? [Any])?.count, 10)

    run = try lightfm(["similar", "--model", "small.lfm", "--item", "x1", "--top", "3"])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertEqual(run.stdout.split(separator: "\n").count, 4)

    run = try lightfm(["export", "--model", "small.lfm", "--dir", "exported"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let embeddings = try NumpyArray.read(
      from: directory.appendingPathComponent("exported/item_embeddings.npy"))
    XCTAssertEqual(embeddings.shape, [12, 8])  // 10 identity features + group:x + group:y
    let representations = try NumpyArray.read(
      from: directory.appendingPathComponent("exported/item_representations.npy"))
    XCTAssertEqual(representations.shape, [10, 8])
    let ids = try String(contentsOfFile: path("exported/item_ids.txt"), encoding: .utf8)
    XCTAssertEqual(ids.split(separator: "\n").count, 10)
    // Exporting again needs --force, and then replaces the earlier export's files.
    assertFails(
      try lightfm(["export", "--model", "small.lfm", "--dir", "exported"]), ["--force"])
    run = try lightfm(["export", "--model", "small.lfm", "--dir", "exported", "--force"])
    XCTAssertEqual(run.status, 0, run.stderr)
  }

  // MARK: - Bad input

  func testBadInputIsReportedWithFileAndLineAndWritesNothing() throws {
    let garbage = try write("garbage.bin", bytes: (0..<256).map { UInt8(($0 * 37) % 256) })
    assertFails(
      try lightfm(["fit", "--train", garbage, "--model", "m.lfm"]),
      ["garbage.bin:1", "binary"])
    let empty = try write("empty.csv", "")
    assertFails(
      try lightfm(["fit", "--train", empty, "--model", "m.lfm"]), ["empty.csv", "empty"])
    let ragged = try write("ragged.tsv", "1\t2\t5\n3\t4\n")
    assertFails(
      try lightfm(["fit", "--train", ragged, "--model", "m.lfm"]), ["ragged.tsv:2", "fields"])
    let words = try write("words.tsv", "1\t2\t5\n3\t4\tfive\n")
    assertFails(
      try lightfm(["fit", "--train", words, "--model", "m.lfm"]), ["words.tsv:2", "'five'"])
    assertFails(
      try lightfm(["fit", "--train", path("missing.csv"), "--model", "m.lfm"]), ["missing.csv"])
    assertFails(
      try lightfm(["fit", "--train", ragged, "--model", "m.lfm", "--components", "0"]),
      ["--components"])
    // WARP-kOS takes no sample weights: a weight column is refused, ratings are fine.
    let weighted = try write("weighted.tsv", "1\t2\t5\n3\t4\t2\n1\t4\t3\n")
    assertFails(
      try lightfm(["fit", "--train", weighted, "--loss", "warp-kos", "--model", "m.lfm"]),
      ["warp-kos", "--min-rating"])
    XCTAssertFalse(exists("m.lfm"))
    XCTAssertEqual(
      try lightfm([
        "fit", "--train", weighted, "--loss", "warp-kos", "--min-rating", "3", "--epochs", "2",
        "--model", "kos.lfm",
      ]).status, 0)

    // Latin-1 ids train fine and come back as UTF-8.
    let latin1 = try write(
      "latin1.tsv",
      bytes: Array("Jos".utf8) + [0xE9] + Array("\tLes Mis".utf8) + [0xE9]
        + Array("rables\t5\n".utf8)
        + Array("Ana\tAm".utf8) + [0xE9] + Array("lie\t4\n".utf8))
    var run = try lightfm(["fit", "--train", latin1, "--epochs", "1", "--model", "l.lfm"])
    XCTAssertEqual(run.status, 0, run.stderr)
    run = try lightfm(
      ["recommend", "--model", "l.lfm", "--users", "-", "--exclude", latin1], stdin: "José\n")
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(run.stdout.contains("José,1,Amélie,"), run.stdout)

    // Unknown ids in --users: an error with file and line, and no output file.
    let users = try write("users.txt", "José\nnobody\n")
    run = try lightfm(["recommend", "--model", "l.lfm", "--users", users, "--output", "r.csv"])
    assertFails(run, ["users.txt:2", "unknown user id 'nobody'"])
    XCTAssertFalse(exists("r.csv"))
    assertFails(
      try lightfm(["similar", "--model", "l.lfm", "--item", "nothing"]), ["unknown item id"])

    // Damaged model files.
    var model = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path("l.lfm"))))
    _ = try write("truncated.lfm", bytes: Array(model.prefix(model.count / 2)))
    assertFails(
      try lightfm(["recommend", "--model", "truncated.lfm"]), ["truncated.lfm", "truncated"])
    model[model.count / 2] ^= 0xFF
    _ = try write("flipped.lfm", bytes: model)
    assertFails(
      try lightfm(["evaluate", "--model", "flipped.lfm", "--test", latin1]), ["checksum"])
    assertFails(
      try lightfm(["similar", "--model", garbage, "--item", "x"]), ["not a lightfm model"])
    assertFails(try lightfm(["recommend", "--model", "l.lfm", "--top", "0"]), ["--top"])
  }

  func testScipyMatricesAreAcceptedAsInteractions() throws {
    let npz = try write("m.npz", bytes: NumpyFixtures.bigNPZ)
    let run = try lightfm([
      "fit", "--train", npz, "--epochs", "2", "--components", "4", "--model", "npz.lfm",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    let loaded = try LightFM.load(from: directory.appendingPathComponent("npz.lfm"))
    // Rows and columns with an entry become the ids "row" and "column".
    XCTAssertEqual(loaded.dataset?.userIDs.count, 100)
    XCTAssertTrue(loaded.dataset?.itemIDs.contains("79") ?? false)
  }

  func testScipyFeatureMatrixIsUsedAsGiven() throws {
    // Items 0, 1, 2 with the 3 x 4 fixture as their feature matrix (no identity features).
    let train = try write("t.csv", "a,0\na,1\nb,2\nb,1\nc,0\n")
    let features = try write("f.npz", bytes: NumpyFixtures.cooNPZ)
    var run = try lightfm([
      "fit", "--train", train, "--item-features", features, "--epochs", "3",
      "--components", "5", "--model", "f.lfm",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    let loaded = try LightFM.load(from: directory.appendingPathComponent("f.lfm"))
    XCTAssertEqual(loaded.model.itemFeatureCount, 4)
    XCTAssertEqual(
      loaded.itemFeatures?.toDense(), [[0, 1.5, 0, 0], [0, 0, 0, -3], [2, 0, 0, 0]])
    // An item id that is not a row number of the matrix is an error naming it.
    let bad = try write("bad.csv", "a,0\na,7\n")
    run = try lightfm(["fit", "--train", bad, "--item-features", features, "--model", "g.lfm"])
    assertFails(run, ["f.npz", "'7'"])
    XCTAssertFalse(exists("g.lfm"))
  }

  // MARK: - MovieLens

  func testMovieLensFitEvaluateRecommend() throws {
    guard let ml = MovieLens.directory() else { throw XCTSkip(MovieLens.missingMessage) }
    let base = ml.appendingPathComponent("ua.base").path
    let test = ml.appendingPathComponent("ua.test").path
    var run = try lightfm([
      "fit", "--train", base, "--min-rating", "4", "--loss", "warp", "--epochs", "10",
      "--seed", "42", "--model", "ml.lfm",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    run = try lightfm([
      "evaluate", "--model", "ml.lfm", "--test", test, "--train", base, "--min-rating", "4",
      "--json",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    let metrics = try XCTUnwrap(
      try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let auc = try XCTUnwrap(metrics["auc"] as? Double)
    let precision = try XCTUnwrap(metrics["precision_at_k"] as? Double)
    // LightFM's own MovieLens test expects WARP test AUC > 0.9; leave room for seeds.
    XCTAssertGreaterThan(auc, 0.88, run.stdout)
    XCTAssertGreaterThan(precision, 0.05, run.stdout)
    XCTAssertEqual(metrics["users"] as? Int, 934, run.stdout)

    run = try lightfm([
      "recommend", "--model", "ml.lfm", "--exclude", base, "--top", "10",
      "--item-names", ml.appendingPathComponent("u.item").path, "--output", "recs.csv",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    let lines = try String(contentsOfFile: path("recs.csv"), encoding: .utf8)
      .split(separator: "\n")
    XCTAssertEqual(lines.count, 943 * 10 + 1)
    XCTAssertEqual(lines[0], "user,rank,item,score,name")
    // Nothing recommended was in the user's training lines.
    let trained = Set(
      try MovieLens.ratings("ua.base", in: ml).map { "\($0.user),\($0.item)" })
    for line in lines.dropFirst() {
      let fields = line.split(separator: ",", omittingEmptySubsequences: false)
      XCTAssertFalse(trained.contains("\(fields[0]),\(fields[2])"), String(line))
    }
  }
}
