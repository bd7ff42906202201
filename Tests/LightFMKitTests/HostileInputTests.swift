import Foundation
import XCTest
import _LightFMTestSupport

@testable import LightFMKit

#if canImport(Glibc)
  import Glibc
#endif

/// Hostile and unlucky input for the readers and the `lightfm` tool: zip bombs, lying sizes,
/// huge shapes, directories given as files, interrupted writes. Every case asserts the error
/// message, and the CLI cases also the exit status, that the run stayed under an address-space
/// limit (`prlimit --as`) and a peak RSS, and that no file in the working directory was
/// created, changed or deleted.
final class HostileInputTests: XCTestCase {
  var directory: URL!

  override func setUpWithError() throws {
    directory = try makeTemporaryDirectory("lightfm-hostile")
  }

  func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  @discardableResult
  func write(_ name: String, _ bytes: [UInt8]) throws -> String {
    try Data(bytes).write(to: directory.appendingPathComponent(name))
    return path(name)
  }

  func assertThrows(
    _ fragments: [String], file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws -> Void
  ) {
    do {
      try body()
      XCTFail("expected an error containing \(fragments)", file: file, line: line)
    } catch {
      for fragment in fragments {
        XCTAssertTrue(
          "\(error)".contains(fragment), "'\(error)' lacks '\(fragment)'", file: file, line: line)
      }
    }
  }

  // MARK: - Fixtures

  static func npy(_ descr: String, _ shape: [Int], _ payload: [UInt8]) -> [UInt8] {
    ZipFixture.npyHeader(descr: descr, shape: shape) + payload
  }

  static func bytes<T: BitwiseCopyable>(_ values: [T]) -> [UInt8] {
    values.withUnsafeBytes { Array($0) }
  }

  /// format, shape and the given members, as scipy writes a COO matrix.
  static func cooArchive(
    rows: Int, columns: Int, members: (inout ZipFixture) -> Void
  ) -> [UInt8] {
    var zip = ZipFixture()
    zip.add("format.npy", [.bytes(npy("|S3", [], Array("coo".utf8)))])
    zip.add("shape.npy", [.bytes(npy("<i8", [2], bytes([Int64(rows), Int64(columns)])))])
    members(&zip)
    return zip.bytes()
  }

  /// A 1 MB zip bomb: `data.npy` inflates to 1 GiB of zeros (2^28 float32 values); `row` and
  /// `col` are given by `rest`.
  static func bomb(rest: (inout ZipFixture, Int) -> Void) -> [UInt8] {
    let count = 1 << 28
    return cooArchive(rows: 10, columns: 10) { zip in
      zip.add(
        "data.npy",
        [.bytes(ZipFixture.npyHeader(descr: "<f4", shape: [count])), .zeros(4 * count)],
        deflate: true, zip64: true)
      rest(&zip, count)
    }
  }

  // MARK: - Library: sizes checked before allocating

  func testMemberDeclaring100GBIsRefusedBeforeReserving() throws {
    let archive = Self.cooArchive(rows: 2, columns: 2) { zip in
      zip.add(
        "data.npy", [.bytes(Self.npy("<f4", [1], Self.bytes([Float(1)])))], deflate: true,
        declaredSize: 100_000_000_000, zip64: true)
    }
    assertThrows(["member 'data.npy'", "declares 100000000000 bytes", "1032:1"]) {
      _ = try NPZ.readSparseMatrix(bytes: archive, file: "lie.npz")
    }
  }

  func testStoredMemberWhoseSizesDisagreeIsRefused() throws {
    var zip = ZipFixture()
    zip.add("a.npy", [.bytes(Self.npy("<f4", [1], Self.bytes([Float(1)])))], declaredSize: 1 << 40,
      zip64: true)
    assertThrows(["member 'a.npy'", "stored member declares 1099511627776 bytes"]) {
      _ = try NPZ.readArrays(bytes: zip.bytes(), file: "lie.npz")
    }
  }

  func testArrayLargerThanTheBudgetIsRefusedBeforeInflating() throws {
    // 64 MiB of zeros in about 64 kB: within DEFLATE's ratio, over a 16 MiB budget.
    let count = 1 << 24
    var zip = ZipFixture()
    zip.add(
      "a.npy", [.bytes(ZipFixture.npyHeader(descr: "<f4", shape: [count])), .zeros(4 * count)],
      deflate: true)
    let limits = LoadLimits(maxBytes: 16 << 20)
    assertThrows(["bomb.npz (member a.npy)", "67108864 bytes", "memory budget of 16.8 MB"]) {
      _ = try NPZ.readArrays(bytes: zip.bytes(), file: "bomb.npz", limits: limits)
    }
    // Within the budget it reads, straight into one array.
    let arrays = try NPZ.readArrays(
      bytes: zip.bytes(), file: "bomb.npz", limits: LoadLimits(maxBytes: 128 << 20))
    XCTAssertEqual(arrays["a"]?.count, count)
  }

  func testSparseHeadersAreCheckedAgainstEachOtherBeforeAnyData() throws {
    // data says 2^28 entries; row and col hold 4: refused before the gigabyte is inflated.
    let archive = Self.bomb { zip, _ in
      let four = Self.npy("<i4", [4], Self.bytes([Int32](repeating: 0, count: 4)))
      zip.add("row.npy", [.bytes(four)])
      zip.add("col.npy", [.bytes(four)])
    }
    XCTAssertLessThan(archive.count, 2_000_000)
    let started = Date()
    assertThrows(["bomb.npz", "'row' has 4 elements, expected 268435456"]) {
      _ = try NPZ.readSparseMatrix(bytes: archive, file: "bomb.npz")
    }
    XCTAssertLessThan(Date().timeIntervalSince(started), 5, "the bomb was inflated")
  }

  func testHugeSparseShapeIsCheckedAgainstTheBudget() throws {
    let archive = Self.cooArchive(rows: 20, columns: Int(Int32.max)) { zip in
      zip.add("data.npy", [.bytes(Self.npy("<f4", [1], Self.bytes([Float(1)])))])
      zip.add("row.npy", [.bytes(Self.npy("<i4", [1], Self.bytes([Int32(0)])))])
      zip.add("col.npy", [.bytes(Self.npy("<i4", [1], Self.bytes([Int32(5)])))])
    }
    assertThrows(["feat.npz", "20 x 2147483647 sparse matrix with 1 stored entries",
      "memory budget"]) {
      _ = try NPZ.readSparseMatrix(
        bytes: archive, file: "feat.npz", limits: LoadLimits(maxBytes: 1 << 30))
    }
  }

  func testNpyShapeLargerThanItsBytesIsRefused() throws {
    let bytes = Self.npy("<f8", [1 << 40], [])
    assertThrows(["x.npy", "1099511627776 elements of <f8 need 8796093022208 bytes, only 0"]) {
      _ = try NumpyArray(npyBytes: bytes, file: "x.npy")
    }
    let overflowing = Self.npy("<f8", [1 << 62, 1 << 62], [])
    assertThrows(["x.npy", "is too large"]) {
      _ = try NumpyArray(npyBytes: overflowing, file: "x.npy")
    }
  }

  func testModelSizeIsCheckedAgainstTheBudget() {
    assertThrows(["--components 1000000000000", "memory budget"]) {
      try LoadLimits(maxBytes: 1 << 30).requireModel(
        rows: 10, components: 1_000_000_000_000, "--components 1000000000000")
    }
    XCTAssertNoThrow(try LoadLimits(maxBytes: 1 << 30).requireModel(rows: 10, components: 64, ""))
  }

  func testSizesParse() {
    XCTAssertEqual(LoadLimits.parseSize("4G"), 4 << 30)
    XCTAssertEqual(LoadLimits.parseSize("512M"), 512 << 20)
    XCTAssertEqual(LoadLimits.parseSize("1.5GiB"), 3 << 29)
    XCTAssertEqual(LoadLimits.parseSize("1000"), 1000)
    XCTAssertNil(LoadLimits.parseSize("-1G"))
    XCTAssertNil(LoadLimits.parseSize("lots"))
    XCTAssertGreaterThanOrEqual(LoadLimits.machineDefault.maxBytes, 256 << 20)
  }

  // MARK: - Library: valid files read as numpy reads them

  func testZip64EndRecordIsRead() throws {
    var zip = ZipFixture()
    zip.add("a.npy", [.bytes(Self.npy("<i8", [2], Self.bytes([Int64(3), 4])))], zip64: true)
    zip.add("b.npy", [.bytes(Self.npy("<f4", [1], Self.bytes([Float(0.5)])))], deflate: true,
      zip64: true)
    let arrays = try NPZ.readArrays(bytes: zip.bytes(zip64End: true), file: "z.npz")
    XCTAssertEqual(arrays["a"]?.elements, .int64([3, 4]))
    XCTAssertEqual(arrays["b"]?.elements, .float32([0.5]))
  }

  func testArchiveWith65536MembersIsRead() throws {
    // As numpy.savez writes 65,536 arrays: the classic end record saturates at 0xFFFF.
    var zip = ZipFixture()
    let count = 65_536
    for n in 0..<count {
      zip.add("a\(n).npy", [.bytes(Self.npy("<i8", [1], Self.bytes([Int64(n)])))], zip64: true)
    }
    let arrays = try NPZ.readArrays(bytes: zip.bytes(zip64End: true), file: "many.npz")
    XCTAssertEqual(arrays.count, count)
    XCTAssertEqual(arrays["a65535"]?.elements, .int64([65535]))
  }

  func testUnicodeStringsAreFourBytesACharacter() throws {
    // np.save of np.array(['abcd', 'wxyz']): dtype '<U4', 16 bytes per element.
    let payload = Array("abcd".unicodeScalars.map(\.value) + "wxyz".unicodeScalars.map(\.value))
    let bytes = Self.npy("<U4", [2], Self.bytes(payload))
    XCTAssertEqual(
      try NumpyArray(npyBytes: bytes, file: "u.npy").elements, .strings(["abcd", "wxyz"]))
    let short = Self.npy("<U4", [2], Self.bytes(Array("ab".unicodeScalars.map(\.value)) + [0, 0]
      + Array("é".unicodeScalars.map(\.value)) + [0, 0, 0]))
    XCTAssertEqual(try NumpyArray(npyBytes: short, file: "u.npy").elements, .strings(["ab", "é"]))
  }

  func testDuplicateMembersTakeTheLastAsNumpyDoes() throws {
    var zip = ZipFixture()
    zip.add("a.npy", [.bytes(Self.npy("<i8", [1], Self.bytes([Int64(1)])))])
    zip.add("b.npy", [.bytes(Self.npy("<i8", [1], Self.bytes([Int64(2)])))])
    zip.add("a.npy", [.bytes(Self.npy("<i8", [1], Self.bytes([Int64(3)])))], deflate: true)
    let archive = try ZipArchive(bytes: zip.bytes(), file: "d.npz")
    XCTAssertEqual(archive.names, ["b.npy", "a.npy"])
    let arrays = try NPZ.readArrays(bytes: zip.bytes(), file: "d.npz")
    XCTAssertEqual(arrays["a"]?.elements, .int64([3]))
  }

  // MARK: - Library: files

  func testDirectoryOrMissingFileIsAClearError() throws {
    let url = directory!
    assertThrows([url.path, "is a directory"]) { _ = try NPZ.readSparseMatrix(from: url) }
    assertThrows([url.path, "is a directory"]) { _ = try NumpyArray.read(from: url) }
    assertThrows([url.path, "is a directory"]) {
      _ = try DelimitedText.readInteractions(from: url)
    }
    assertThrows([url.path, "is a directory"]) { _ = try LightFM.load(from: url) }
    let missing = directory.appendingPathComponent("nope.npz")
    assertThrows([missing.path, "no such file"]) { _ = try NPZ.readSparseMatrix(from: missing) }
  }

  func testFirstLineWithABadRatingIsDataUnlessItIsAHeader() throws {
    func parse(_ text: String) throws -> InteractionFile {
      try DelimitedText.parseInteractions(Array(text.utf8), file: "f.csv")
    }
    // 'u1' is a user again below: the first line is data with a bad rating.
    assertThrows(["f.csv:1", "rating or weight 'five' is not a finite number"]) {
      _ = try parse("u1,i1,five\nu1,i2,4\n")
    }
    // Numeric ids below: a first line with numeric ids is data.
    assertThrows(["f.csv:1", "'five'"]) { _ = try parse("1,2,five\n3,4,5\n") }
    // A real header is skipped and reported.
    let file = try parse("user,item,rating\nu1,i1,5\n")
    XCTAssertEqual(file.header, ["user", "item", "rating"])
    XCTAssertEqual(file.headerLine, 1)
    XCTAssertEqual(file.records.count, 1)
    XCTAssertNil(try parse("u1,i1,5\nu2,i2,4\n").header)
    // A timestamp column that is numeric makes the line data.
    assertThrows(["f.csv:1", "'five'"]) { _ = try parse("u1,i1,five,100\nu2,i2,4,200\n") }
  }

  func testStaleTemporaryFilesOfDeadProcessesAreRemoved() throws {
    let destination = directory.appendingPathComponent("out.csv")
    // A process id above Linux's largest (2^22) cannot be alive; ours is.
    let stale = path(".out.csv.lightfm-tmp-4194400-12345")
    let live = path(".out.csv.lightfm-tmp-\(getpid())-777")
    let other = path(".other.csv.lightfm-tmp-4194400-1")
    for p in [stale, live, other] { _ = FileManager.default.createFile(atPath: p, contents: nil) }
    try AtomicFileWriter.write(Array("x\n".utf8), to: destination)
    XCTAssertFalse(FileManager.default.fileExists(atPath: stale))
    XCTAssertTrue(FileManager.default.fileExists(atPath: live))
    XCTAssertTrue(FileManager.default.fileExists(atPath: other))
  }

  /// Run by `testSignalRemovesTheTemporaryFile` in a child process: holds a temporary file open
  /// until it is killed. Does nothing in a normal test run.
  func testSignalHelperHoldsATemporaryFile() throws {
    guard let target = ProcessInfo.processInfo.environment["LIGHTFM_SIGNAL_HELPER_OUTPUT"] else {
      return
    }
    // A background job may start with SIGINT ignored; the writer only handles default ones.
    signal(SIGINT, SIG_DFL)
    signal(SIGTERM, SIG_DFL)
    let writer = try AtomicFileWriter(destination: URL(fileURLWithPath: target))
    try writer.write("partial output\n")
    try writer.flush()
    _ = FileManager.default.createFile(atPath: target + ".ready", contents: nil)
    sleep(60)
    writer.abort()
  }

  func testSignalRemovesTheTemporaryFile() throws {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0])
    guard executable.pathExtension == "xctest" || executable.lastPathComponent.contains("xctest")
    else { throw XCTSkip("cannot re-run the test bundle from \(executable.path)") }
    for sig in [SIGTERM, SIGINT] {
      let output = path("out-\(sig).csv")
      let process = Process()
      process.executableURL = executable
      process.arguments = ["LightFMKitTests.HostileInputTests/testSignalHelperHoldsATemporaryFile"]
      process.environment = ProcessInfo.processInfo.environment.merging(
        ["LIGHTFM_SIGNAL_HELPER_OUTPUT": output]) { $1 }
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      let deadline = Date().addingTimeInterval(30)
      while !FileManager.default.fileExists(atPath: output + ".ready") && Date() < deadline {
        usleep(10_000)
      }
      let temporary = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        .filter { $0.hasPrefix(".out-\(sig).csv.lightfm-tmp-") }
      XCTAssertEqual(temporary.count, 1, "the helper did not start writing")
      kill(process.processIdentifier, sig)
      process.waitUntilExit()
      XCTAssertEqual(process.terminationStatus, 128 + sig)
      let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        .filter { $0.contains(".lightfm-tmp-") }
      XCTAssertEqual(left, [], "temporary files left after signal \(sig)")
      XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }
  }
}
