/// A sparse matrix in coordinate form: one `(row, column, value)` triple per stored entry.
///
/// Entries keep the order they were given in and may repeat a coordinate; `CSRMatrix(coo)` sums
/// repeats by default. Indices are `Int32` and values `Float`, as the training kernels read them.
public struct COOMatrix: Equatable, Sendable {
  /// rows × columns.
  public let shape: MatrixShape
  /// The row of each stored entry.
  public private(set) var rowIndices: [Int32]
  /// The column of each stored entry.
  public private(set) var columnIndices: [Int32]
  /// The value of each stored entry.
  public private(set) var values: [Float]

  /// The number of stored entries (repeats included).
  public var nnz: Int { values.count }

  /// Builds a COO matrix, checking every entry.
  ///
  /// - Throws: `LightFMError` naming the first entry whose index is outside the shape or whose
  ///   value is not finite, or when the three arrays differ in length.
  /// - Complexity: O(nnz).
  public init(
    rows: Int,
    columns: Int,
    rowIndices: [Int32],
    columnIndices: [Int32],
    values: [Float]
  ) throws {
    guard rows >= 0, columns >= 0, rows <= Int(Int32.max), columns <= Int(Int32.max) else {
      throw LightFMError.invalidData(
        "invalid matrix shape \(rows) x \(columns): expected dimensions in 0...\(Int32.max)")
    }
    guard rowIndices.count == columnIndices.count, rowIndices.count == values.count else {
      throw LightFMError.invalidData(
        "COO arrays differ in length: \(rowIndices.count) row indices, "
          + "\(columnIndices.count) column indices, \(values.count) values")
    }
    try Self.validate(
      rows: rows, columns: columns,
      rowIndices: rowIndices, columnIndices: columnIndices, values: values)
    self.shape = MatrixShape(rows: rows, columns: columns)
    self.rowIndices = rowIndices
    self.columnIndices = columnIndices
    self.values = values
  }

  /// Builds without checking; callers guarantee the invariants.
  init(
    uncheckedShape shape: MatrixShape,
    rowIndices: [Int32],
    columnIndices: [Int32],
    values: [Float]
  ) {
    self.shape = shape
    self.rowIndices = rowIndices
    self.columnIndices = columnIndices
    self.values = values
  }

  /// An empty matrix of the given shape.
  public init(emptyRows rows: Int, columns: Int) {
    self.init(
      uncheckedShape: MatrixShape(rows: rows, columns: columns),
      rowIndices: [], columnIndices: [], values: [])
  }

  /// The entry at position `n` of the stored order.
  public subscript(entry n: Int) -> (row: Int, column: Int, value: Float) {
    (Int(rowIndices[n]), Int(columnIndices[n]), values[n])
  }

  /// Returns a copy with new values at the same coordinates.
  ///
  /// - Throws: `LightFMError` when the count differs or a value is not finite.
  public func withValues(_ newValues: [Float]) throws -> COOMatrix {
    guard newValues.count == nnz else {
      throw LightFMError.invalidData(
        "expected \(nnz) values for the stored entries, got \(newValues.count)")
    }
    for (n, v) in newValues.enumerated() where !v.isFinite {
      throw LightFMError.invalidData(
        "value \(v) at entry \(n) (row \(rowIndices[n]), column \(columnIndices[n])) is not finite")
    }
    return COOMatrix(
      uncheckedShape: shape, rowIndices: rowIndices, columnIndices: columnIndices, values: newValues)
  }

  // MARK: - Validation

  static func validate(
    rows: Int, columns: Int,
    rowIndices: [Int32], columnIndices: [Int32], values: [Float]
  ) throws {
    for n in 0..<values.count {
      let r = rowIndices[n]
      let c = columnIndices[n]
      let v = values[n]
      if r < 0 || Int(r) >= rows {
        throw LightFMError.invalidData(
          "row index \(r) at entry \(n) is outside 0..<\(rows) (matrix is \(rows) x \(columns))")
      }
      if c < 0 || Int(c) >= columns {
        throw LightFMError.invalidData(
          "column index \(c) at entry \(n) is outside 0..<\(columns) "
            + "(matrix is \(rows) x \(columns))")
      }
      if !v.isFinite {
        throw LightFMError.invalidData(
          "value \(v) at entry \(n) (row \(r), column \(c)) is not finite")
      }
    }
  }
}
