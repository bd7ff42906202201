import Foundation
import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// The `lightfm` tool on hostile input, as a subprocess under `prlimit --as` (an address-space
/// limit: an allocation past it fails instead of swapping) and `/usr/bin/time` (peak RSS).
extension HostileInputTests {
  struct Run {
    let status: Int32
    let stdout: String
    let stderr: String
    /// Peak resident set in bytes, when /usr/bin/time was there to measure it.
    let peakRSS: Int?
  }

  /// Runs `lightfm arguments` in the test directory with at most `addressSpace` bytes of
  /// virtual memory.
  func lightfm(_ arguments: [String], addressSpace: Int = 1_000_000_000) throws -> Run {
    let fm = FileManager.default
    guard fm.isExecutableFile(atPath: "/usr/bin/prlimit") else {
      throw XCTSkip("prlimit (util-linux) is not installed")
    }
    let timer =
      fm.isExecutableFile(atPath: "/usr/bin/time")
      ? ["/usr/bin/time", "-f", "peak-rss-kb %M"] : []
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
    process.arguments =
      // A sanitizer reserves terabytes of address space: no limit then.
      ["--as=\(LightFMSubprocess.sanitized ? "unlimited" : "\(addressSpace)")", "--"] + timer
      + [try LightFMSubprocess.executable().path] + arguments
    process.currentDirectoryURL = directory
    // The captured streams go outside the working directory.
    let scratch = try makeTemporaryDirectory("lightfm-run")
    let outURL = scratch.appendingPathComponent("out")
    let errURL = scratch.appendingPathComponent("err")
    _ = fm.createFile(atPath: outURL.path, contents: nil)
    _ = fm.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try out.close()
    try err.close()
    var stderr = String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
    var peak: Int?
    var status = process.terminationStatus
    if !timer.isEmpty, let range = stderr.range(of: "peak-rss-kb ", options: .backwards) {
      peak = Int(stderr[range.upperBound...].prefix { $0.isNumber }).map { $0 * 1024 }
      // time reports a signal death as "Command terminated by signal N".
      if let signal = stderr.range(of: "Command terminated by signal ") {
        status = 128 + (Int32(stderr[signal.upperBound...].prefix { $0.isNumber }) ?? 0)
      } else if let exited = stderr.range(of: "Command exited with non-zero status ") {
        status = Int32(stderr[exited.upperBound...].prefix { $0.isNumber }) ?? status
      }
      stderr = String(stderr[..<range.lowerBound])
    }
    return Run(
      status: status, stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
      stderr: stderr, peakRSS: peak)
  }

  /// Every file in the test directory with its size, modification time and content.
  func snapshot() throws -> [String: Data] { try LightFMSubprocess.snapshot(of: directory) }

  /// Runs `lightfm arguments` and asserts: exit status 1 (an error, not a signal), every
  /// fragment on standard error, nothing on standard output, peak RSS under `peakBound`, and the
  /// directory exactly as before.
  func assertRefused(
    _ arguments: [String], _ fragments: [String], peakBound: Int = 300_000_000,
    addressSpace: Int = 1_000_000_000, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let before = try snapshot()
    let run = try lightfm(arguments, addressSpace: addressSpace)
    XCTAssertEqual(run.status, 1, "exit status; stderr: \(run.stderr)", file: file, line: line)
    for fragment in fragments {
      XCTAssertTrue(
        run.stderr.contains(fragment), "stderr lacks '\(fragment)': \(run.stderr)", file: file,
        line: line)
    }
    XCTAssertEqual(run.stdout, "", file: file, line: line)
    if let peak = run.peakRSS, !LightFMSubprocess.sanitized {
      XCTAssertLessThan(peak, peakBound, "peak RSS", file: file, line: line)
    }
    XCTAssertEqual(try snapshot(), before, "files changed", file: file, line: line)
  }

  func trainingCSV() throws -> String {
    var lines = ["user,item,rating"]
    for u in 0..<6 { for i in 0..<4 where (u + i) % 2 == 0 { lines.append("u\(u),i\(i),5") } }
    return try write("train.csv", Array((lines.joined(separator: "\n") + "\n").utf8))
  }

  // MARK: - Cases

  func testCLIZipBombIsRefusedBeforeInflating() throws {
    // The issue's bomb: 1 MB inflating to 1 GiB, with row and col that disagree with it.
    let bomb = try write("bomb.npz", Self.bomb { zip, _ in
      zip.add("row.npy", [.bytes(Self.npy("<i4", [1], Self.bytes([Int32(0)])))])
      zip.add("col.npy", [.bytes(Self.npy("<i4", [1], Self.bytes([Int32(0)])))])
    })
    try assertRefused(
      ["fit", "--train", bomb, "--model", path("m.lfm")],
      ["bomb.npz", "'row' has 1 elements, expected 268435456"])
    // Consistent headers (all three bombs): refused by the budget before any is inflated.
    let full = try write("full.npz", Self.bomb { zip, count in
      for name in ["row.npy", "col.npy"] {
        zip.add(
          name, [.bytes(ZipFixture.npyHeader(descr: "<i4", shape: [count])), .zeros(4 * count)],
          deflate: true, zip64: true)
      }
    })
    // An explicit budget: the default (half of physical memory) would make the outcome
    // depend on the host, as 2^28 entries come close to half of 24 GiB.
    try assertRefused(
      ["fit", "--train", full, "--model", path("m.lfm"), "--max-memory", "8G"],
      ["full.npz", "268435456 interactions", "memory budget"])
    let limits = LoadLimits(maxBytes: 2 << 30)
    assertThrows(["full.npz", "268435456 stored entries", "memory budget of 2.15 GB"]) {
      _ = try NPZ.readSparseMatrix(from: URL(fileURLWithPath: full), limits: limits)
    }
  }

  func testCLIInflatesAtMostTheDeclaredSizeOnce() throws {
    // A consistent 0 x 0 matrix of 2^25 entries: data and row (128 MiB of zeros each) are
    // inflated straight into their arrays before row's index 0 is found outside 0..<0. The
    // peak stays near the 256 MiB inflated, not twice it.
    let count = 1 << 25
    let archive = Self.cooArchive(rows: 0, columns: 0) { zip in
      zip.add(
        "data.npy",
        [.bytes(ZipFixture.npyHeader(descr: "<f4", shape: [count])), .zeros(4 * count)],
        deflate: true)
      for name in ["row.npy", "col.npy"] {
        zip.add(
          name, [.bytes(ZipFixture.npyHeader(descr: "<i4", shape: [count])), .zeros(4 * count)],
          deflate: true)
      }
    }
    let file = try write("zeros.npz", archive)
    try assertRefused(
      ["fit", "--train", file, "--model", path("m.lfm")],
      ["zeros.npz", "row index 0 at entry 0 of 'row' is outside 0..<0"], peakBound: 400_000_000)
    // A row member too small for its header is refused before anything is inflated.
    let short = Self.cooArchive(rows: 1, columns: 1) { zip in
      zip.add(
        "data.npy",
        [.bytes(ZipFixture.npyHeader(descr: "<f4", shape: [count])), .zeros(4 * count)],
        deflate: true)
      for name in ["row.npy", "col.npy"] {
        zip.add(name, [.bytes(ZipFixture.npyHeader(descr: "<i4", shape: [count]) + [0, 0, 0, 0])])
      }
    }
    try assertRefused(
      ["fit", "--train", try write("short.npz", short), "--model", path("m.lfm")],
      ["short.npz (member row.npy)", "declares 33554432 elements of <i4", "holds 4 bytes"],
      peakBound: 100_000_000)
  }

  func testCLIMemberDeclaring100GBIsRefused() throws {
    let archive = Self.cooArchive(rows: 2, columns: 2) { zip in
      zip.add(
        "data.npy", [.bytes(Self.npy("<f4", [1], Self.bytes([Float(1)])))], deflate: true,
        declaredSize: 100_000_000_000, zip64: true)
    }
    let file = try write("lie.npz", archive)
    try assertRefused(
      ["fit", "--train", file, "--model", path("m.lfm")],
      ["lie.npz: member 'data.npy'", "declares 100000000000 bytes", "1032:1"])
  }

  func testCLIHugeFeatureShapeIsRefused() throws {
    let train = try trainingCSV()
    let archive = Self.cooArchive(rows: 20, columns: Int(Int32.max)) { zip in
      zip.add("data.npy", [.bytes(Self.npy("<f4", [1], Self.bytes([Float(1)])))])
      zip.add("row.npy", [.bytes(Self.npy("<i4", [1], Self.bytes([Int32(0)])))])
      zip.add("col.npy", [.bytes(Self.npy("<i4", [1], Self.bytes([Int32(5)])))])
    }
    let features = try write("feat.npz", archive)
    try assertRefused(
      ["fit", "--train", train, "--user-features", features, "--model", path("m.lfm")],
      ["feat.npz", "20 x 2147483647", "memory budget"])
    // However large the budget, the feature names alone are refused.
    try assertRefused(
      ["fit", "--train", train, "--user-features", features, "--model", path("m.lfm"),
        "--max-memory", "100G"],
      ["feat.npz", "2147483647 feature names", "memory budget of 107 GB"])
  }

  func testCLIHugeComponentsAreRefused() throws {
    let train = try trainingCSV()
    try assertRefused(
      ["fit", "--train", train, "--model", path("m.lfm"), "--components", "1000000000000"],
      ["--components 1000000000000", "memory budget"])
  }

  func testCLIDirectoryAsAnInputIsAClearError() throws {
    let train = try trainingCSV()
    let folder = path("folder")
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let model = path("model.lfm")
    let fit = try lightfm(["fit", "--train", train, "--model", model, "--epochs", "1"])
    XCTAssertEqual(fit.status, 0, fit.stderr)
    for arguments in [
      ["fit", "--train", folder, "--model", path("m.lfm")],
      ["fit", "--train", train, "--user-features", folder, "--model", path("m.lfm")],
      ["fit", "--train", train, "--item-features", folder, "--model", path("m.lfm")],
      ["evaluate", "--model", model, "--test", folder],
      ["evaluate", "--model", model, "--test", train, "--train", folder],
      ["recommend", "--model", model, "--exclude", folder],
      ["recommend", "--model", model, "--users", folder],
      ["recommend", "fold-in", "--model", model, "--interactions", folder],
      ["recommend", "new-users", "--model", model, "--features", folder],
      ["rank-new-items", "--model", model, "--features", folder],
      ["recommend", "--model", folder],
    ] {
      try assertRefused(arguments, ["\(folder): is a directory"])
    }
  }

  func testCLISaysWhenItSkipsAHeaderAndRefusesABadFirstRating() throws {
    let typo = try write("typo.csv", Array("u1,i1,five\nu1,i2,4\nu2,i1,3\n".utf8))
    try assertRefused(
      ["fit", "--train", typo, "--model", path("m.lfm")],
      ["typo.csv:1", "rating or weight 'five' is not a finite number"])
    let train = try trainingCSV()
    let run = try lightfm(["fit", "--train", train, "--model", path("m.lfm"), "--epochs", "1"])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertTrue(
      run.stderr.contains("train.csv:1: skipped the first line as a header: user | item | rating"),
      run.stderr)
  }
}
