import Foundation
import XCTest
import _LightFMTestSupport

@testable import LightFMKit

#if canImport(Glibc)
  import Glibc
#endif

/// The CLI as a Unix tool: standard input and pipes for every input, candidate lists, names,
/// and progress that is redrawn on a terminal and plain in a log.
extension CLITests {
  // MARK: - Running under a pseudo-terminal

  /// Runs `lightfm` with standard error on a pseudo-terminal (standard output to /dev/null) and
  /// returns the raw bytes the terminal received.
  func lightfmOnTerminal(_ arguments: [String]) throws -> String {
    var master: Int32 = -1
    var terminal: Int32 = -1
    var size = winsize(ws_row: 24, ws_col: 200, ws_xpixel: 0, ws_ypixel: 0)
    guard openpty(&master, &terminal, nil, nil, &size) == 0 else {
      throw XCTSkip("no pseudo-terminal: \(String(cString: strerror(errno)))")
    }
    defer { close(master) }
    let process = Process()
    process.executableURL = try LightFMSubprocess.executable()
    process.arguments = arguments
    process.currentDirectoryURL = directory
    process.standardError = FileHandle(fileDescriptor: terminal, closeOnDealloc: false)
    process.standardOutput = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    close(terminal)
    // Until the child closes the terminal: then read fails with EIO (Linux) or returns 0.
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      received += buffer[0..<n]
    }
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0, String(decoding: received, as: UTF8.self))
    return String(decoding: received, as: UTF8.self)
  }

  /// Runs a bash script in the test directory, with `$LIGHTFM` the binary; standard error is
  /// left to the test's own.
  func shell(_ script: String) throws -> (status: Int32, stdout: String) {
    let bash = Process()
    bash.executableURL = URL(fileURLWithPath: "/bin/bash")
    bash.arguments = ["-c", script]
    bash.currentDirectoryURL = directory
    bash.environment = ProcessInfo.processInfo.environment.merging(
      ["LIGHTFM": try LightFMSubprocess.executable().path]) { $1 }
    let out = Pipe()
    bash.standardOutput = out
    try bash.run()
    let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    bash.waitUntilExit()
    return (bash.terminationStatus, stdout)
  }

  /// Interactions with enough data that training takes a visible while: 1,500 users × 600
  /// items in 30 groups, 40 lines each.
  func mediumTrainingFile() throws -> String {
    var rng = SystemRandomNumberGenerator()
    var lines: [String] = []
    lines.reserveCapacity(60_000)
    for u in 0..<1_500 {
      for _ in 0..<40 {
        let item = (u % 30) * 20 + Int.random(in: 0..<20, using: &rng)
        lines.append("u\(u)\ti\(item)")
      }
    }
    return try write("medium.tsv", lines.joined(separator: "\n") + "\n")
  }

  func testProgressIsOneLineRedrawnOnATerminal() throws {
    let train = try mediumTrainingFile()
    // Long enough for several redraws (every 0.1 s) on a fast machine or a slow one: eight
    // times the epochs until the line has been drawn more than once.
    var epochs = 20
    var shown = ""
    func redraws() -> Int { shown.components(separatedBy: "\rfit: ").count - 1 }
    for attempt in 0..<4 {
      if attempt > 0 { epochs *= 8 }
      shown = try lightfmOnTerminal([
        "fit", "--train", train, "--epochs", "\(epochs)", "--components", "32", "--threads",
        "1", "--model", "medium.lfm",
      ])
      if redraws() >= 2 { break }
    }
    // Every redraw returns to the start of the line, writes, and clears what was left.
    XCTAssertGreaterThanOrEqual(redraws(), 2, "not redrawn: \(shown.debugDescription)")
    XCTAssertTrue(shown.contains("\u{1B}[K"), shown.debugDescription)
    for fragment in ["epochs/s", "left ", "\rfit: \(epochs)/\(epochs) epochs  100%"] {
      XCTAssertTrue(shown.contains(fragment), "no '\(fragment)': \(shown.debugDescription)")
    }
    // The progress line is erased at the end; the summary lines follow on lines of their own.
    XCTAssertTrue(
      shown.contains("\r\u{1B}[Kfit: epoch \(epochs)/\(epochs)"), shown.debugDescription)

    let quiet = try lightfmOnTerminal([
      "fit", "--train", train, "--epochs", "5", "--threads", "1", "--model", "quiet.lfm",
      "--quiet",
    ])
    XCTAssertFalse(quiet.contains("\u{1B}[K"), quiet.debugDescription)
    XCTAssertTrue(quiet.contains("fit: wrote quiet.lfm"), quiet.debugDescription)
  }

  func testProgressIsPlainWhenStandardErrorIsNotATerminal() throws {
    let train = try mediumTrainingFile()
    let run = try lightfm([
      "fit", "--train", train, "--epochs", "3", "--threads", "1", "--model", "m.lfm",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertFalse(run.stderr.contains("\r") || run.stderr.contains("\u{1B}"), run.stderr)
    XCTAssertTrue(run.stderr.contains("fit: epoch 3/3"), run.stderr)
  }

  // MARK: - Standard input, pipes and process substitution

  func testEveryInputReadsStandardInputAndPipes() throws {
    let train = try smallTrainingFile()
    let text = try String(contentsOfFile: train, encoding: .utf8)
    var run = try lightfm(
      ["fit", "--train", "-", "--min-rating", "4", "--seed", "1", "--threads", "1",
       "--model", "stdin.lfm"], stdin: text)
    XCTAssertEqual(run.status, 0, run.stderr)
    let fromFile = try fitSmallModel("file.lfm", [])
    XCTAssertEqual(fromFile.run.status, 0, fromFile.run.stderr)
    XCTAssertEqual(
      try Data(contentsOf: directory.appendingPathComponent("stdin.lfm")),
      try Data(contentsOf: directory.appendingPathComponent("file.lfm")),
      "training from standard input writes the same model as from the file")

    // Process substitution (a pipe under /dev/fd) for the model, the users, the names and the
    // exclusions gives what the files give.
    let names = try write("names.txt", "x1|Album X1\nx2|Album X2\ny1|Album Y1\n")
    let piped = try shell(
      "$LIGHTFM recommend --model <(cat file.lfm) --users <(printf 'a1\\nb2\\n') "
        + "--item-names <(cat names.txt) --top 2 --exclude <(cat train.csv)")
    XCTAssertEqual(piped.status, 0)
    run = try lightfm(
      ["recommend", "--model", "file.lfm", "--users", "-", "--item-names", names, "--top", "2",
       "--exclude", train], stdin: "a1\nb2\n")
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertEqual(piped.stdout, run.stdout)
    XCTAssertEqual(piped.stdout.split(separator: "\n").count, 5, piped.stdout)

    // The model itself on standard input.
    let viaStdin = try shell("cat file.lfm | $LIGHTFM similar --model - --item x1 --top 2")
    run = try lightfm(["similar", "--model", "file.lfm", "--item", "x1", "--top", "2"])
    XCTAssertEqual(viaStdin.status, 0)
    XCTAssertEqual(viaStdin.stdout, run.stdout)
    // A scipy matrix through a pipe is told from text by its bytes, as a file is.
    try NPZWriter.writeCOO(
      try COOMatrix(
        rows: 3, columns: 4, rowIndices: [0, 1, 2, 2], columnIndices: [0, 1, 2, 3],
        values: [1, 1, 1, 1]),
      to: directory.appendingPathComponent("small.npz"))
    let npz = try shell("cat small.npz | $LIGHTFM fit --train - --epochs 1 --model npz.lfm")
    XCTAssertEqual(npz.status, 0)
    XCTAssertTrue(exists("npz.lfm"))

    // One standard input for one argument: a second '-' is an error that says so.
    assertFails(
      try lightfm(
        ["recommend", "--model", "file.lfm", "--users", "-", "--exclude", "-"], stdin: "a1\n"),
      ["standard input is already read"])
  }

  func testStandardInputIsStreamedWithTheFileMessages() throws {
    // The header note, and a negative weight named by its line past comments and blank lines.
    let text = "# weights\nuser,item,weight\n\nu1,i1,1\n# more\nu2,i2,2\n\nu2,i3,-0.5\n"
    let file = try write("neg.csv", text)
    for (arguments, stdin, name) in [
      (["fit", "--train", file], nil, file), (["fit", "--train", "-"], text, "<stdin>"),
    ] {
      let run = try lightfm(arguments + ["--model", "neg.lfm"], stdin: stdin)
      assertFails(
        run,
        [
          "\(name):2: skipped the first line as a header: user | item | weight",
          "\(name):8: weight -0.5 is negative",
        ])
      XCTAssertFalse(exists("neg.lfm"))
    }
    // Lines longer than a read of the pipe, and more lines than the header rule looks at.
    var long = ""
    for n in 0..<400 {
      let user = "u\(n % 13)-" + String(repeating: "x", count: 200 + 20 * (n % 13))
      long += "\(user)\ti\(n % 7)\t4\n"
    }
    let fromFile = try lightfm(
      ["fit", "--train", try write("long.tsv", long), "--epochs", "1", "--seed", "1",
       "--threads", "1", "--model", "file.lfm"])
    XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
    let piped = try shell(
      "cat long.tsv | $LIGHTFM fit --train - --epochs 1 --seed 1 --threads 1 --model pipe.lfm")
    XCTAssertEqual(piped.status, 0)
    XCTAssertEqual(
      try Data(contentsOf: directory.appendingPathComponent("pipe.lfm")),
      try Data(contentsOf: directory.appendingPathComponent("file.lfm")))
    XCTAssertTrue(
      fromFile.stderr.contains("fit: 13 users, 7 items, 91 positives"), fromFile.stderr)
  }

  // MARK: - Candidates, names and JSON lines

  func testItemsRestrictTheCandidates() throws {
    let fitted = try fitSmallModel("small.lfm", ["--epochs", "10"])
    XCTAssertEqual(fitted.run.status, 0, fitted.run.stderr)
    let items = try write("items.txt", "y1\nx3\n")
    let run = try lightfm([
      "recommend", "--model", "small.lfm", "--items", items, "--top", "5",
    ])
    XCTAssertEqual(run.status, 0, run.stderr)
    let rows = run.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
    XCTAssertEqual(rows.count, 12 * 2, run.stdout)
    XCTAssertEqual(Set(rows.map { String($0[2]) }), ["y1", "x3"])
    assertFails(
      try lightfm(["recommend", "--model", "small.lfm", "--items", "-"], stdin: "x1\nnope\n"),
      ["<stdin>:2", "unknown item id 'nope'"])
  }

  func testSimilarTakesANameAndJSONLinesLeaveOutMissingNames() throws {
    let fitted = try fitSmallModel("small.lfm", ["--epochs", "10"])
    XCTAssertEqual(fitted.run.status, 0, fitted.run.stderr)
    let names = try write("names.txt", "x1|Blue Train\nx2|Kind of Blue\ny1|Kind of Blue\n")
    let byID = try lightfm(["similar", "--model", "small.lfm", "--item", "x1", "--top", "3"])
    let byName = try lightfm([
      "similar", "--model", "small.lfm", "--item", "blue train", "--item-names", names,
      "--top", "3", "--format", "jsonl",
    ])
    XCTAssertEqual(byID.status, 0, byID.stderr)
    XCTAssertEqual(byName.status, 0, byName.stderr)
    XCTAssertTrue(byName.stdout.hasPrefix("{\"item\": \"x1\""), byName.stdout)
    assertFails(
      try lightfm([
        "similar", "--model", "small.lfm", "--item", "Kind of Blue", "--item-names", names,
      ]), ["belongs to 2 items", "x2", "y1"])

    let plain = try lightfm([
      "similar", "--model", "small.lfm", "--item", "x1", "--format", "jsonl",
    ])
    XCTAssertEqual(plain.status, 0, plain.stderr)
    XCTAssertFalse(plain.stdout.contains("\"name\""), plain.stdout)
    let recommended = try lightfm([
      "recommend", "--model", "small.lfm", "--format", "jsonl", "--item-names", names,
      "--top", "10",
    ])
    XCTAssertEqual(recommended.status, 0, recommended.stderr)
    XCTAssertTrue(recommended.stdout.contains("\"name\": \"Blue Train\""), recommended.stdout)
    XCTAssertFalse(recommended.stdout.contains("\"name\": \"\""), recommended.stdout)
  }
}
