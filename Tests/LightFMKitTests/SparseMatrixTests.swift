import XCTest

@testable import LightFMKit

final class SparseMatrixTests: XCTestCase {
  func sample() throws -> COOMatrix {
    try COOMatrix(
      rows: 3, columns: 4,
      rowIndices: [2, 0, 0, 1, 2, 0],
      columnIndices: [3, 2, 0, 1, 3, 2],
      values: [1, 2, 3, 4, 5, 6])
  }

  func testCOOToCSRSumsDuplicatesAndSortsColumns() throws {
    let csr = try CSRMatrix(sample())
    XCTAssertEqual(csr.shape, MatrixShape(rows: 3, columns: 4))
    XCTAssertEqual(csr.rowPointers, [0, 2, 3, 4])
    XCTAssertEqual(csr.columnIndices, [0, 2, 1, 3])
    XCTAssertEqual(csr.values, [3, 8, 4, 6])
    XCTAssertEqual(csr.toDense(), [[3, 0, 8, 0], [0, 4, 0, 0], [0, 0, 0, 6]])
  }

  func testCOOToCSRCanKeepDuplicates() throws {
    let csr = try CSRMatrix(sample(), sumDuplicates: false)
    XCTAssertEqual(csr.nnz, 6)
    XCTAssertEqual(csr.rowPointers, [0, 3, 4, 6])
    XCTAssertEqual(Array(csr.row(0).columns), [0, 2, 2])
    XCTAssertEqual(Array(csr.row(0).values), [3, 2, 6])
    XCTAssertEqual(csr.toDense(), try sample().toDense())
  }

  /// Random entries with duplicates, unsorted and sorted: rows in order, columns ascending,
  /// equal coordinates kept in COO order or summed, as a reference sort gives.
  func testCOOToCSRMatchesAReferenceSort() throws {
    var rng = TrainingRNG(seed: 8)
    let (rows, columns, nnz) = (37, 23, 2_000)
    let r = (0..<nnz).map { _ in Int32(rng.below(rows)) }
    let c = (0..<nnz).map { _ in Int32(rng.below(columns)) }
    let v = (0..<nnz).map { Float($0) }
    let order = (0..<nnz).sorted { (r[$0], c[$0], $0) < (r[$1], c[$1], $1) }
    for sorted in [false, true] {
      let p = sorted ? order : Array(0..<nnz)
      let coo = try COOMatrix(
        rows: rows, columns: columns, rowIndices: p.map { r[$0] },
        columnIndices: p.map { c[$0] }, values: p.map { v[$0] })
      XCTAssertEqual(coo.isRowMajorSorted, sorted)
      let kept = try CSRMatrix(coo, sumDuplicates: false)
      XCTAssertEqual(kept.columnIndices, order.map { c[$0] }, "sorted input: \(sorted)")
      XCTAssertEqual(kept.values, order.map { v[$0] }, "sorted input: \(sorted)")
      let summed = try CSRMatrix(coo)
      XCTAssertEqual(summed.toDense(), kept.toDense())
      XCTAssertLessThan(summed.nnz, kept.nnz)
      for row in 0..<rows {
        let cs = Array(summed.row(row).columns)
        XCTAssertEqual(cs, Array(Set(cs)).sorted(), "row \(row): ascending, no repeats")
      }
    }
  }

  func testRoundTripAndTranspose() throws {
    let coo = try sample()
    let csr = try CSRMatrix(coo)
    let back = COOMatrix(csr)
    XCTAssertEqual(back.toDense(), coo.toDense())
    XCTAssertEqual(try CSRMatrix(back), csr)
    let t = csr.transposed()
    XCTAssertEqual(t.shape, MatrixShape(rows: 4, columns: 3))
    let dense = csr.toDense()
    for r in 0..<3 {
      for c in 0..<4 { XCTAssertEqual(t.toDense()[c][r], dense[r][c]) }
    }
    XCTAssertEqual(t.transposed(), csr)
    XCTAssertEqual(coo.transposed().transposed(), coo)
  }

  func testRowAccessIdentityAndNormalisation() throws {
    let id = CSRMatrix.identity(3)
    XCTAssertTrue(id.isIdentity)
    XCTAssertEqual(id.toDense(), [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    let csr = try CSRMatrix(sample())
    XCTAssertFalse(csr.isIdentity)
    let row = csr.row(0)
    XCTAssertEqual(row.count, 2)
    XCTAssertTrue(csr.contains(row: 0, column: 2))
    XCTAssertFalse(csr.contains(row: 0, column: 1))
    let normalized = try csr.l1Normalized()
    XCTAssertEqual(normalized.toDense()[0], [3.0 / 11, 0, 8.0 / 11, 0])
    XCTAssertEqual(normalized.toDense()[2], [0, 0, 0, 1])
    let empty = CSRMatrix(emptyRows: 2, columns: 2)
    XCTAssertEqual(try empty.l1Normalized(), empty)
    let zeroSum = try CSRMatrix(
      rows: 1, columns: 2, rowPointers: [0, 2], columnIndices: [0, 1], values: [1, -1])
    XCTAssertNoThrow(try zeroSum.l1Normalized())
  }

  func testCSRConstructorSortsAndValidates() throws {
    let csr = try CSRMatrix(
      rows: 2, columns: 3, rowPointers: [0, 2, 3], columnIndices: [2, 0, 1], values: [1, 2, 3])
    XCTAssertEqual(csr.columnIndices, [0, 2, 1])
    XCTAssertEqual(csr.values, [2, 1, 3])
    XCTAssertThrowsError(
      try CSRMatrix(rows: 2, columns: 3, rowPointers: [0, 2], columnIndices: [0, 1], values: [1, 1])
    )
    XCTAssertThrowsError(
      try CSRMatrix(
        rows: 2, columns: 3, rowPointers: [0, 2, 1], columnIndices: [0], values: [1]))
    assertError(
      try CSRMatrix(
        rows: 1, columns: 3, rowPointers: [0, 1], columnIndices: [3], values: [1]),
      contains: "column index 3")
    assertError(
      try CSRMatrix(
        rows: 1, columns: 3, rowPointers: [0, 1], columnIndices: [0], values: [.infinity]),
      contains: "not finite")
  }

  func testCOOValidationNamesTheEntry() {
    assertError(
      try COOMatrix(rows: 2, columns: 2, rowIndices: [0, 2], columnIndices: [0, 0], values: [1, 1]),
      contains: "row index 2 at entry 1")
    assertError(
      try COOMatrix(rows: 2, columns: 2, rowIndices: [0], columnIndices: [-1], values: [1]),
      contains: "column index -1 at entry 0")
    assertError(
      try COOMatrix(rows: 2, columns: 2, rowIndices: [1], columnIndices: [1], values: [.nan]),
      contains: "value nan at entry 0")
    assertError(
      try COOMatrix(rows: 2, columns: 2, rowIndices: [1, 0], columnIndices: [1], values: [1]),
      contains: "differ in length")
    assertError(
      try COOMatrix(rows: -1, columns: 2, rowIndices: [], columnIndices: [], values: []),
      contains: "invalid matrix shape")
  }
}

/// Asserts that `expression` throws a `LightFMError` whose message contains `fragment`.
func assertError<T>(
  _ expression: @autoclosure () throws -> T, contains fragment: String,
  file: StaticString = #filePath, line: UInt = #line
) {
  do {
    _ = try expression()
    XCTFail("expected an error containing '\(fragment)'", file: file, line: line)
  } catch let error as LightFMError {
    XCTAssertTrue(
      error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'",
      file: file, line: line)
  } catch {
    XCTFail("unexpected error \(error)", file: file, line: line)
  }
}
