import Foundation
import XCTest

@testable import LightFMKit

#if canImport(Glibc)
  import Glibc
#endif

/// Hostile conditions around the `lightfm` tool and faulty models: standard streams that are
/// closed, full, a directory or a pipe whose reader left; model files whose parameters are not
/// finite; training that runs away; negative weights; nothing to train on.
///
/// The tool runs as a subprocess under `prlimit --as` (an allocation past the limit fails), its
/// standard streams wired by `posix_spawn` file actions exactly as a shell would leave them
/// (closed, `/dev/full`, a directory), with SIGPIPE at its default. Each case asserts the exit
/// status, the message on standard error, the peak resident memory (from `wait4`) and that the
/// working directory is exactly as before, save for the files the command is meant to write.
final class FaultTests: XCTestCase {
  var directory: URL!
  /// Where the subprocess's captured streams go: outside the working directory.
  var scratch: URL!

  override func setUpWithError() throws {
    directory = try makeTemporaryDirectory("lightfm-faults")
    scratch = try makeTemporaryDirectory("lightfm-faults-io")
  }

  func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  func write(_ name: String, _ text: String) throws -> String {
    try Data(text.utf8).write(to: directory.appendingPathComponent(name))
    return path(name)
  }

  // MARK: - Running the tool

  /// How one standard stream of the subprocess is set up.
  enum Stream {
    /// Closed, as `<&-` or `>&-` leaves it.
    case closed
    /// `path` opened with `flags` (`/dev/full`, a directory, a capture file).
    case open(String, Int32)
    /// An existing descriptor of the test process (one end of a pipe).
    case descriptor(Int32)
  }

  struct Run {
    /// The exit status, or 128 + the signal that ended the process.
    let status: Int32
    let stdout: String
    let stderr: String
    /// Peak resident memory in bytes (`wait4`'s `ru_maxrss`).
    let peakRSS: Int
  }

  /// Starts `lightfm arguments` in `directory` under `prlimit --as=addressSpace`, with SIGPIPE
  /// at its default and the three streams set up as given.
  func spawn(
    _ arguments: [String], stdin: Stream, stdout: Stream, stderr: Stream,
    addressSpace: Int = 1_000_000_000
  ) throws -> pid_t {
    for tool in ["/usr/bin/prlimit", "/usr/bin/env"] where access(tool, X_OK) != 0 {
      throw XCTSkip("\(tool) is not installed")
    }
    let limit = LightFMSubprocess.sanitized ? "unlimited" : "\(addressSpace)"
    let argv =
      ["/usr/bin/prlimit", "--as=\(limit)", "--"]
      + ["/usr/bin/env", "-C", directory.path]
      + [try LightFMSubprocess.executable().path] + arguments
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (fd, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
      switch stream {
      case .closed: posix_spawn_file_actions_addclose(&actions, fd)
      case .open(let file, let flags):
        posix_spawn_file_actions_addopen(&actions, fd, file, flags, 0o644)
      case .descriptor(let source): posix_spawn_file_actions_adddup2(&actions, source, fd)
      }
    }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
    let cArguments = argv.map { strdup($0) } + [nil]
    defer { cArguments.forEach { free($0) } }
    var pid: pid_t = 0
    let code = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, environ)
    guard code == 0 else {
      throw XCTSkip("posix_spawn failed: \(String(cString: strerror(code)))")
    }
    return pid
  }

  /// Waits for `pid`: its status (128 + signal when a signal ended it) and peak RSS.
  func wait(_ pid: pid_t) -> (status: Int32, peakRSS: Int) {
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let signal = status & 0x7F
    return (signal == 0 ? (status >> 8) & 0xFF : 128 + signal, usage.ru_maxrss * 1024)
  }

  /// A pipe whose ends the subprocess does not inherit (only the one given it as a stream, which
  /// `dup2` copies without the flag): a reader that closes its end is then really gone.
  func closeOnExecPipe() throws -> [Int32] {
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else { throw XCTSkip("pipe failed") }
    for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return ends
  }

  /// Runs `lightfm arguments`; standard output and error go to capture files unless given.
  func lightfm(
    _ arguments: [String], stdin: Stream = .open("/dev/null", O_RDONLY),
    stdout: Stream? = nil, stderr: Stream? = nil, addressSpace: Int = 1_000_000_000
  ) throws -> Run {
    let out = scratch.appendingPathComponent("out-\(UUID().uuidString)").path
    let err = scratch.appendingPathComponent("err-\(UUID().uuidString)").path
    let capture = O_WRONLY | O_CREAT | O_TRUNC
    let pid = try spawn(
      arguments, stdin: stdin, stdout: stdout ?? .open(out, capture),
      stderr: stderr ?? .open(err, capture), addressSpace: addressSpace)
    let (status, peak) = wait(pid)
    func text(_ file: String) -> String {
      (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
    }
    return Run(status: status, stdout: text(out), stderr: text(err), peakRSS: peak)
  }

  /// Every file in the working directory with its size, modification time and content.
  func snapshot() throws -> [String: Data] { try LightFMSubprocess.snapshot(of: directory) }

  /// Asserts the status, each fragment on standard error, a peak RSS under `peakBound`, and the
  /// working directory as before.
  func assertRun(
    _ run: Run, status: Int32, _ fragments: [String], before: [String: Data],
    peakBound: Int = 300_000_000, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    XCTAssertEqual(
      run.status, status, "exit status; stderr: \(run.stderr)", file: file, line: line)
    for fragment in fragments {
      XCTAssertTrue(
        run.stderr.contains(fragment), "stderr lacks '\(fragment)': \(run.stderr)", file: file,
        line: line)
    }
    XCTAssertFalse(run.stderr.contains("Fatal error"), run.stderr, file: file, line: line)
    if !LightFMSubprocess.sanitized {
      XCTAssertLessThan(run.peakRSS, peakBound, "peak RSS", file: file, line: line)
    }
    XCTAssertEqual(try snapshot(), before, "the working directory changed", file: file, line: line)
  }

  // MARK: - Fixtures

  /// A training file of `users` users with 3 items each among 40, and the model fitted on it
  /// (`model.lfm`, d = 4, one epoch, one thread).
  func fittedModel(users: Int = 30) throws -> (train: String, model: String) {
    var lines: [String] = []
    for u in 0..<users {
      for k in 0..<3 { lines.append("u\(u),i\((u * 7 + k * 13) % 40)") }
    }
    let train = try write("train.csv", lines.joined(separator: "\n") + "\n")
    let model = path("model.lfm")
    let run = try lightfm(
      ["fit", "--train", train, "--model", model, "--components", "4", "--epochs", "1",
       "--threads", "1", "--seed", "1"])
    XCTAssertEqual(run.status, 0, run.stderr)
    return (train, model)
  }

  // MARK: - Standard input

  func testUsersFromAClosedStandardInputIsAnError() throws {
    let (_, model) = try fittedModel()
    let before = try snapshot()
    let run = try lightfm(["recommend", "--model", model, "--users", "-"], stdin: .closed)
    try assertRun(
      run, status: 1, ["<stdin>: cannot read: Bad file descriptor"], before: before)
    XCTAssertEqual(run.stdout, "")
  }

  func testUsersFromADirectoryOnStandardInputIsAnError() throws {
    let (_, model) = try fittedModel()
    let before = try snapshot()
    let run = try lightfm(
      ["recommend", "--model", model, "--users", "-"],
      stdin: .open(directory.path, O_RDONLY | O_DIRECTORY))
    try assertRun(
      run, status: 1, ["<stdin>: is a directory, not a file"], before: before)
    XCTAssertEqual(run.stdout, "")
  }

  // MARK: - Standard output

  func testResultsToAFullDeviceAreAnError() throws {
    let (train, model) = try fittedModel()
    let before = try snapshot()
    let full = Stream.open("/dev/full", O_WRONLY)
    let message = "cannot write the results to standard output: No space left on device"
    for arguments in [
      ["recommend", "--model", model],
      ["recommend", "known-users", "--model", model, "--format", "jsonl"],
      ["similar", "--model", model, "--item", "i0"],
      ["similar", "--model", model, "--user", "u0"],
      ["evaluate", "--model", model, "--test", train],
      ["evaluate", "--model", model, "--test", train, "--json"],
      ["recommend", "--help"],
    ] {
      let run = try lightfm(arguments, stdout: full)
      try assertRun(run, status: 1, [message], before: before)
    }
  }

  func testResultsToAClosedStandardOutputAreAnError() throws {
    let (train, model) = try fittedModel()
    let before = try snapshot()
    for arguments in [
      ["recommend", "--model", model],
      ["similar", "--model", model, "--item", "i0"],
      ["evaluate", "--model", model, "--test", train],
    ] {
      let run = try lightfm(arguments, stdout: .closed)
      try assertRun(
        run, status: 1, ["cannot write the results to standard output: it is closed"],
        before: before)
    }
  }

  /// `lightfm recommend | head -c 100`: the reader leaves after 100 bytes of several megabytes;
  /// the tool ends quietly with 141 (128 + SIGPIPE, as `cat` would), not a crash or a message.
  func testAReaderThatLeavesEndsTheCommandQuietly() throws {
    let (_, model) = try fittedModel(users: 3000)
    let before = try snapshot()
    for arguments in [
      ["recommend", "--model", model, "--top", "40"],
      ["recommend", "--model", model, "--top", "40", "--format", "jsonl", "--batch-size", "7"],
    ] {
      let ends = try closeOnExecPipe()
      let err = scratch.appendingPathComponent("err-\(UUID().uuidString)").path
      let pid = try spawn(
        arguments, stdin: .open("/dev/null", O_RDONLY), stdout: .descriptor(ends[1]),
        stderr: .open(err, O_WRONLY | O_CREAT | O_TRUNC))
      close(ends[1])
      var head = [UInt8](repeating: 0, count: 100)
      var got = 0
      while got < head.count {
        let n = head.withUnsafeMutableBytes { read(ends[0], $0.baseAddress! + got, 100 - got) }
        if n <= 0 { break }
        got += n
      }
      close(ends[0])
      let (status, peak) = wait(pid)
      let stderr = (try? String(contentsOfFile: err, encoding: .utf8)) ?? ""
      XCTAssertEqual(got, 100)
      try assertRun(
        Run(status: status, stdout: "", stderr: stderr, peakRSS: peak), status: 141, [],
        before: before)
      XCTAssertEqual(stderr.contains("rror"), false, stderr)
    }
  }

  /// With `--output`, a broken standard error during the write neither kills the command nor
  /// leaves a temporary file: the file appears whole.
  func testOutputFileIsWholeWhenStandardErrorIsBroken() throws {
    let (_, model) = try fittedModel(users: 500)
    let ends = try closeOnExecPipe()
    close(ends[0])  // nobody reads standard error: every note is EPIPE
    let pid = try spawn(
      ["recommend", "--model", model, "--batch-size", "10", "--output", path("recs.csv")],
      stdin: .open("/dev/null", O_RDONLY), stdout: .open("/dev/null", O_WRONLY),
      stderr: .descriptor(ends[1]))
    close(ends[1])
    let (status, _) = wait(pid)
    XCTAssertEqual(status, 0)
    let lines = try String(contentsOfFile: path("recs.csv"), encoding: .utf8)
      .split(separator: "\n")
    XCTAssertEqual(lines.count, 1 + 500 * 10)
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    XCTAssertEqual(Set(names), ["train.csv", "model.lfm", "recs.csv"])
  }

  // MARK: - Standard error

  /// `fit` with standard error full, closed or a pipe nobody reads: the notes are lost, the
  /// model is written whole and loads, and nothing else appears in the directory.
  func testFitSurvivesABrokenStandardError() throws {
    let (train, reference) = try fittedModel()
    let ends = try closeOnExecPipe()
    close(ends[0])
    defer { close(ends[1]) }
    for (n, stream) in [Stream.open("/dev/full", O_WRONLY), .closed, .descriptor(ends[1])]
      .enumerated()
    {
      let model = path("m\(n).lfm")
      let run = try lightfm(
        ["fit", "--train", train, "--model", model, "--components", "4", "--epochs", "1",
         "--threads", "1", "--seed", "1"],
        stderr: stream)
      XCTAssertEqual(run.status, 0, "stream \(n)")
      // The same bytes as the model fitted with a working standard error: no note inside.
      XCTAssertEqual(
        try Data(contentsOf: URL(fileURLWithPath: model)),
        try Data(contentsOf: URL(fileURLWithPath: reference)), "stream \(n)")
      if !LightFMSubprocess.sanitized { XCTAssertLessThan(run.peakRSS, 300_000_000) }
    }
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    XCTAssertEqual(Set(names), ["train.csv", "model.lfm", "m0.lfm", "m1.lfm", "m2.lfm"])
  }

  /// An error with standard error closed: the status still says so.
  func testAnErrorWithAClosedStandardErrorStillFails() throws {
    let before = try snapshot()
    let run = try lightfm(["recommend", "--model", path("missing.lfm")], stderr: .closed)
    try assertRun(run, status: 1, [], before: before)
  }

  // MARK: - Models that are not finite or ran away

  /// `model.lfm` from `fittedModel()` with `change` applied to its parameters, re-serialised
  /// with a valid checksum.
  func alteredModel(_ name: String, _ change: (inout ModelParameters) -> Void) throws -> String {
    let (_, model) = try fittedModel()
    var saved = try LightFM.load(from: URL(fileURLWithPath: model))
    var parameters = try XCTUnwrap(saved.model.parameters)
    change(&parameters)
    saved.model.parameters = parameters
    let altered = path(name)
    try Data(ModelFile.serialize(saved)).write(to: URL(fileURLWithPath: altered))
    return altered
  }

  func testNonFiniteParametersAreRefusedAtLoad() throws {
    let cases: [(String, (inout ModelParameters) -> Void, [String])] = [
      ("nan.lfm", { $0.items.embeddings[5] = .nan }, ["item_embeddings holds nan at index 5"]),
      ("inf.lfm", { $0.users.biases[2] = .infinity }, ["user_biases holds inf at index 2"]),
      (
        "acc.lfm", { $0.items.biasGradients[1] = -.infinity },
        ["item_bias_gradients holds -inf at index 1 (feature 1)", "not a finite number"]
      ),
      (
        "away.lfm", { $0.users.embeddings[0] = 1e10; $0.items.embeddings[0] = 1e10 },
        ["the parameters ran away", "lower learning rate"]
      ),
    ]
    for (name, change, fragments) in cases {
      let file = try alteredModel(name, change)
      XCTAssertThrowsError(try LightFM.load(from: URL(fileURLWithPath: file))) {
        XCTAssertEqual(($0 as? LightFMError)?.kind, .corruptModel)
        for fragment in fragments {
          XCTAssertTrue("\($0)".contains(fragment), "'\($0)' lacks '\(fragment)'")
        }
      }
      let before = try snapshot()
      for arguments in [
        ["recommend", "--model", file], ["similar", "--model", file, "--item", "i0"],
      ] {
        let run = try lightfm(arguments)
        try assertRun(run, status: 1, [name] + fragments, before: before)
        XCTAssertEqual(run.stdout, "")
      }
    }
  }

  /// A learning rate of 10⁶ with the logistic loss keeps every value finite but sends the scores
  /// past 10²⁰: an error that says to lower the learning rate, and no model file.
  func testRunawayTrainingIsAnError() throws {
    let (train, _) = try fittedModel()
    let before = try snapshot()
    let run = try lightfm(
      ["fit", "--train", train, "--model", path("away.lfm"), "--learning-rate", "1000000",
       "--loss", "logistic", "--threads", "1", "--seed", "1"])
    try assertRun(
      run, status: 1, ["training ran away in epoch 1", "lower the learning rate (now 1000000.0)"],
      before: before)

    let x = try COOMatrix(
      rows: 3, columns: 4, rowIndices: [0, 1, 2, 0], columnIndices: [0, 1, 2, 3],
      values: [1, 1, 1, 1])
    let models = [
      LightFM(noComponents: 4, loss: .logistic, learningRate: 1e6, randomState: 1),
      LightFM(noComponents: 4, loss: .bpr, learningRate: 1e6, randomState: 1),
      LightFM(noComponents: 4, loss: .warp, learningRate: 1e6, randomState: 1),
    ]
    for var model in models {
      let loss = model.loss
      XCTAssertThrowsError(try model.fit(x, epochs: 5)) {
        XCTAssertEqual(($0 as? LightFMError)?.kind, .diverged, "\(loss)")
        XCTAssertTrue("\($0)".contains("lower the learning rate"), "\(loss): \($0)")
      }
      XCTAssertNil(model.parameters, "\(loss): the model is left as it was")
    }
  }

  /// Sane settings stay far below the limit.
  func testOrdinaryTrainingStaysFarBelowTheScoreLimit() throws {
    let x = try COOMatrix(
      rows: 3, columns: 4, rowIndices: [0, 1, 2, 0], columnIndices: [0, 1, 2, 3],
      values: [1, 1, 1, 1])
    var model = LightFM(noComponents: 4, loss: .warp, learningRate: 0.05, randomState: 1)
    try model.fit(x, epochs: 50)
    let extent = ParameterExtent(try XCTUnwrap(model.parameters))
    XCTAssertLessThan(extent.scoreBound, 100)
  }

  // MARK: - Weights and empty data

  func testNegativeSampleWeightsAreRefusedByTheLibraryAndTheTool() throws {
    let x = try COOMatrix(
      rows: 2, columns: 3, rowIndices: [0, 1, 1], columnIndices: [0, 1, 2], values: [1, 1, 1])
    let w = try COOMatrix(
      rows: 2, columns: 3, rowIndices: [0, 1, 1], columnIndices: [0, 1, 2], values: [1, 2, -0.5])
    var model = LightFM(noComponents: 2, loss: .warp, randomState: 1)
    XCTAssertThrowsError(try model.fit(x, sampleWeight: w)) {
      XCTAssertEqual(($0 as? LightFMError)?.kind, .invalidData)
      XCTAssertTrue(
        "\($0)".contains("sample weight -0.5 of stored entry 2 (user row 1, item column 2) is "
          + "negative"), "\($0)")
    }
    XCTAssertNil(model.parameters)

    let train = try write("weights.csv", "u1,i1,1\nu2,i2,2\nu2,i3,-0.5\n")
    let before = try snapshot()
    let run = try lightfm(["fit", "--train", train, "--model", path("w.lfm")])
    try assertRun(run, status: 1, ["weights.csv:3", "weight -0.5 is negative"], before: before)
  }

  func testFittingOnNothingIsAnError() throws {
    let empty = try COOMatrix(rows: 2, columns: 3, rowIndices: [], columnIndices: [], values: [])
    var model = LightFM(noComponents: 2, loss: .warp, randomState: 1)
    XCTAssertThrowsError(try model.fit(empty, epochs: 3)) {
      XCTAssertTrue(
        "\($0)".contains("no interactions to train on: the 2 x 3 interaction matrix has no "
          + "stored entries"), "\($0)")
    }
    XCTAssertThrowsError(try model.fitPartial(empty)) {
      XCTAssertTrue("\($0)".contains("no interactions to train on"), "\($0)")
    }
    XCTAssertNil(model.parameters)
    // Only negatives, for a loss that learns from positives.
    let negatives = try COOMatrix(
      rows: 2, columns: 3, rowIndices: [0, 1], columnIndices: [0, 1], values: [-1, 0])
    XCTAssertThrowsError(try model.fit(negatives)) {
      XCTAssertTrue("\($0)".contains("the warp loss learns from positive entries"), "\($0)")
    }
    var logistic = LightFM(noComponents: 2, loss: .logistic, randomState: 1)
    XCTAssertNoThrow(try logistic.fit(negatives))
    // Weights of 0 leave examples out on purpose: allowed, and they change nothing.
    let positives = try COOMatrix(
      rows: 2, columns: 3, rowIndices: [0, 1], columnIndices: [0, 1], values: [1, 1])
    let zero = try COOMatrix(
      rows: 2, columns: 3, rowIndices: [0, 1], columnIndices: [0, 1], values: [0, 0])
    XCTAssertNoThrow(try model.fit(positives, sampleWeight: zero))
    // Zero epochs only initialise: allowed, as before.
    XCTAssertNoThrow(try model.fit(empty, epochs: 0))

    let header = try write("header.csv", "user,item,rating\n")
    let low = try write("low.csv", "u1,i1,1\nu2,i2,2\n")
    let before = try snapshot()
    for arguments in [
      ["fit", "--train", header, "--model", path("e.lfm")],
      ["fit", "--train", low, "--min-rating", "4", "--model", path("e.lfm")],
    ] {
      let run = try lightfm(arguments)
      try assertRun(run, status: 1, ["Error: "], before: before)
    }
  }

  // MARK: - Issue 12 items 1 and 4 at the tool's level

  /// Crafted model files with a valid checksum: errors from the tool, never a trap.
  func testCraftedModelFilesAreErrorsInTheTool() throws {
    let (_, model) = try fittedModel()
    let good = try LightFM.load(from: URL(fileURLWithPath: model))
    var huge = good
    huge.model.noComponents = 1 << 61
    huge.model.parameters?.noComponents = 1 << 61
    var noIDs = good
    noIDs.dataset = Dataset()
    // Fewer item ids than identity rows: every name kept, the last item id dropped.
    var fewIDs = good
    let dataset = try XCTUnwrap(good.dataset)
    var fewer = IDMapping()
    for n in 0..<(dataset.itemIDs.count - 1) { fewer.insert(dataset.itemIDs.id(at: n)) }
    fewIDs.dataset = Dataset(
      userIDs: dataset.userIDs, itemIDs: fewer, userFeatureNames: dataset.userFeatureNames,
      itemFeatureNames: dataset.itemFeatureNames, userIdentityFeatures: true,
      itemIdentityFeatures: true)
    let cases: [(String, SavedModel, String)] = [
      ("huge.lfm", huge, "bytes"), ("noids.lfm", noIDs, "0 users and 0 items"),
      ("fewids.lfm", fewIDs, "expected one per feature"),
    ]
    for (name, saved, fragment) in cases {
      try Data(ModelFile.serialize(saved)).write(to: URL(fileURLWithPath: path(name)))
      let before = try snapshot()
      for arguments in [
        ["recommend", "--model", path(name)], ["similar", "--model", path(name), "--item", "i0"],
        ["fit", "--resume", path(name), "--train", path("train.csv"), "--model", path("r.lfm")],
      ] {
        try assertRun(try lightfm(arguments), status: 1, [name, fragment], before: before)
      }
    }
  }

  /// `export --dir D` where D holds other files: refused without --force, nothing removed.
  func testExportLeavesOtherFilesAlone() throws {
    let (_, model) = try fittedModel()
    let folder = directory.appendingPathComponent("out")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try Data("{}".utf8).write(to: folder.appendingPathComponent("model.json"))
    try Data("mine".utf8).write(to: folder.appendingPathComponent("notes.txt"))
    let before = try snapshot()
    let inside = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    let run = try lightfm(["export", "--model", model, "--dir", folder.path])
    try assertRun(run, status: 1, ["out"], before: before)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), inside)
    XCTAssertEqual(
      try String(contentsOf: folder.appendingPathComponent("notes.txt"), encoding: .utf8), "mine")
  }
}
