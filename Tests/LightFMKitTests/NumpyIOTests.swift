import Foundation
import XCTest

@testable import LightFMKit
import _LightFMTestSupport

/// Reading what numpy and scipy write (`.npy`, `.npz`, deflate) and writing `.npy` back.
final class NumpyIOTests: XCTestCase {
  var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("lightfm-npy-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  func file(_ name: String, _ bytes: [UInt8]) throws -> URL {
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
  }

  // MARK: - Deflated members (zlib)

  func testDeflatedMemberInflatesThroughZlib() throws {
    let text = Array("abcabcabcabcabcabc hello hello hello".utf8)
    var zip = ZipFixture()
    zip.add("a.txt", [.bytes(text)], deflate: true)
    let archive = try ZipArchive(bytes: zip.bytes(), file: "t.zip")
    XCTAssertEqual(try archive.data(of: "a.txt"), text)
  }

  func testDamagedDeflateDataIsAClearError() throws {
    let text = Array(String(repeating: "lightfm ", count: 200).utf8)
    var zip = ZipFixture()
    zip.add("a.txt", [.bytes(text)], deflate: true)
    var bytes = zip.bytes()
    // Overwrite the start of the deflate data (after the 30-byte header and the name).
    for k in 35..<45 { bytes[k] = 0xFF }
    let archive = try ZipArchive(bytes: bytes, file: "t.zip")
    XCTAssertThrowsError(try archive.data(of: "a.txt")) { error in
      XCTAssertTrue("\(error)".contains("t.zip: member 'a.txt'"), "\(error)")
    }
    // A member that inflates to more, or less, than it declares.
    for declared in [text.count - 1, text.count + 1] {
      var zip = ZipFixture()
      zip.add("a.txt", [.bytes(text)], deflate: true, declaredSize: declared)
      let archive = try ZipArchive(bytes: zip.bytes(), file: "t.zip")
      XCTAssertThrowsError(try archive.data(of: "a.txt")) { error in
        let message = "\(error)"
        XCTAssertTrue(
          message.contains("more than the declared") || message.contains("ends after"), message)
      }
    }
  }

  func testCRC32MatchesKnownValue() {
    XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
    XCTAssertEqual(CRC32.checksum([]), 0)
  }

  // MARK: - .npy

  func testReadsNumpyArraysOfEachType() throws {
    let f4 = try NumpyArray(npyBytes: NumpyFixtures.f4NPY, file: "f4.npy")
    XCTAssertEqual(f4.shape, [2, 3])
    XCTAssertEqual(f4.elements, .float32([0, 0.25, 0.5, 0.75, 1, 1.25]))
    let f8 = try NumpyArray(npyBytes: NumpyFixtures.f8NPY, file: "f8.npy")
    XCTAssertEqual(f8.elements, .float64([1.25, -2.5, 1e-3]))
    let i4 = try NumpyArray(npyBytes: NumpyFixtures.i4NPY, file: "i4.npy")
    XCTAssertEqual(i4.shape, [2, 2])
    XCTAssertEqual(i4.elements, .int32([1, -2, 3, 4]))
    let i8 = try NumpyArray(npyBytes: NumpyFixtures.i8NPY, file: "i8.npy")
    XCTAssertEqual(i8.elements, .int64([1 << 40, -7]))
    let bigEndian = try NumpyArray(npyBytes: NumpyFixtures.beNPY, file: "be.npy")
    XCTAssertEqual(bigEndian.elements, .float64([1.5, 2.5]))
  }

  func testRejectsFortranOrderAndDamagedFiles() throws {
    XCTAssertThrowsError(try NumpyArray(npyBytes: NumpyFixtures.fortranNPY, file: "f.npy")) {
      XCTAssertTrue("\($0)".contains("Fortran order"), "\($0)")
    }
    let truncated = Array(NumpyFixtures.f8NPY.dropLast(3))
    XCTAssertThrowsError(try NumpyArray(npyBytes: truncated, file: "t.npy")) {
      XCTAssertTrue("\($0)".contains("t.npy") && "\($0)".contains("truncated"), "\($0)")
    }
    XCTAssertThrowsError(try NumpyArray(npyBytes: Array("user\titem\n".utf8), file: "x.npy")) {
      XCTAssertTrue("\($0)".contains("magic"), "\($0)")
    }
    XCTAssertThrowsError(try NumpyArray(npyBytes: [], file: "e.npy")) {
      XCTAssertTrue("\($0)".contains("empty"), "\($0)")
    }
    // A header that is not a dict.
    var bad = NumpyFixtures.f4NPY
    bad[10] = UInt8(ascii: "[")
    XCTAssertThrowsError(try NumpyArray(npyBytes: bad, file: "h.npy"))
  }

  func testWritesNpyThatReadsBackExactly() throws {
    let arrays = [
      NumpyArray([1.5, -0, .leastNonzeroMagnitude, 3e38, 7], shape: [5]),
      NumpyArray(shape: [2, 2], elements: .float64([1, 2, 3, .pi])),
      NumpyArray(shape: [3], elements: .int32([.min, 0, .max])),
      NumpyArray(shape: [1, 2], elements: .int64([.min, .max])),
      NumpyArray(shape: [0, 4], elements: .float32([])),
      NumpyArray(shape: [2], elements: .strings(["ab", "c"])),
    ]
    for (n, array) in arrays.enumerated() {
      let url = directory.appendingPathComponent("a\(n).npy")
      try array.write(to: url)
      let bytes = try [UInt8](Data(contentsOf: url))
      // numpy's rule: the data starts on a 64-byte boundary, the header ends in a newline.
      let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      XCTAssertEqual((10 + headerLength) % 64, 0)
      XCTAssertEqual(bytes[10 + headerLength - 1], 0x0A)
      let back = try NumpyArray.read(from: url)
      XCTAssertEqual(back, array)
      if case .float32(let a) = array.elements, case .float32(let b) = back.elements {
        XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern))
      }
    }
    // No temporary files are left behind.
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
      .filter { $0.hasPrefix(".") }
    XCTAssertEqual(leftovers, [])
  }

  // MARK: - .npz

  let expectedSmall: [[Float]] = [[0, 1.5, 0, 0], [0, 0, 0, -3], [2, 0, 0, 0]]

  func testReadsScipySparseMatricesInEveryLayout() throws {
    for (name, bytes) in [
      ("coo.npz", NumpyFixtures.cooNPZ), ("csr.npz", NumpyFixtures.csrStoredNPZ),
      ("csc.npz", NumpyFixtures.cscNPZ),
    ] {
      let matrix = try NPZ.readSparseMatrix(from: try file(name, bytes))
      XCTAssertEqual(matrix.shape, MatrixShape(rows: 3, columns: 4), name)
      XCTAssertEqual(matrix.toDense(), expectedSmall, name)
    }
    let array = try NPZ.readSparseMatrix(from: try file("a.npz", NumpyFixtures.cooArrayNPZ))
    XCTAssertEqual(array.toDense(), [[0, 1, 0, 0], [0, 0, 0, -3], [2, 0, 0, 0]])
  }

  func testReadsDynamicHuffmanMembers() throws {
    let matrix = try NPZ.readSparseMatrix(from: try file("big.npz", NumpyFixtures.bigNPZ))
    XCTAssertEqual(matrix.shape, MatrixShape(rows: 100, columns: 80))
    XCTAssertEqual(matrix.nnz, 800)
    XCTAssertEqual(matrix.values.reduce(0, +), 2796)
    var weighted: Double = 0
    for n in 0..<matrix.nnz {
      let e = matrix[entry: n]
      weighted += Double(e.value) * Double(e.row * 1000 + e.column)
    }
    XCTAssertEqual(weighted, 136_931_971)

    let arrays = try NPZ.readArrays(from: try file("rand.npz", NumpyFixtures.randNPZ))
    XCTAssertEqual(Set(arrays.keys), ["r", "x"])
    let r = try arrays["r"]!.integerValues("r")
    XCTAssertEqual(r.count, 400)
    XCTAssertEqual(r.reduce(0, +), 50808)
    XCTAssertEqual(r.enumerated().map { $0.offset * $0.element }.reduce(0, +), 10_114_655)
    XCTAssertEqual(try arrays["x"]!.integerValues("x"), Array(0..<10))
  }

  func testDamagedArchivesAreClearErrors() throws {
    let bytes = NumpyFixtures.bigNPZ
    // Truncated: the directory at the end is gone.
    XCTAssertThrowsError(try NPZ.readSparseMatrix(from: try file("t.npz", Array(bytes[0..<1500]))))
    {
      XCTAssertTrue("\($0)".contains("t.npz"), "\($0)")
    }
    // A flipped byte anywhere: an error (deflate, CRC, directory) or, in a field the reader
    // does not use, the same matrix; never a crash or a different matrix.
    let original = try NPZ.readSparseMatrix(from: try file("o.npz", bytes))
    var failures = 0
    for offset in stride(from: 0, to: bytes.count, by: 5) {
      var damaged = bytes
      damaged[offset] ^= 0x5A
      do {
        let matrix = try NPZ.readSparseMatrix(bytes: damaged, file: "d.npz")
        XCTAssertEqual(matrix, original, "offset \(offset)")
      } catch {
        failures += 1
      }
    }
    XCTAssertGreaterThan(failures, bytes.count / 5 / 2)
    XCTAssertThrowsError(try NPZ.readSparseMatrix(from: try file("e.npz", []))) {
      XCTAssertTrue("\($0)".contains("empty"), "\($0)")
    }
    XCTAssertThrowsError(try NPZ.readSparseMatrix(from: try file("x.npz", NumpyFixtures.randNPZ)))
    {
      XCTAssertTrue("\($0)".contains("save_npz"), "\($0)")
    }
  }
}
