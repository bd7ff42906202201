/// A sparse matrix in compressed-row form.
///
/// Row `r` owns the entries `rowPointers[r] ..< rowPointers[r + 1]` of `columnIndices` and
/// `values`. Column indices are sorted within each row. Indices are `Int32`, values `Float`.
public struct CSRMatrix: Equatable, Sendable {
  /// rows × columns.
  public let shape: MatrixShape
  /// `rows + 1` offsets into `columnIndices` and `values`.
  public private(set) var rowPointers: [Int]
  /// The column of each stored entry, row by row.
  public private(set) var columnIndices: [Int32]
  /// The value of each stored entry, parallel to `columnIndices`.
  public private(set) var values: [Float]

  /// The number of stored entries.
  public var nnz: Int { values.count }

  /// One row's entries, as slices of the matrix's storage (nothing is copied).
  public struct Row: Sendable {
    /// The row's column indices, ascending.
    public let columns: ArraySlice<Int32>
    /// The row's values, parallel to `columns`.
    public let values: ArraySlice<Float>
    /// The number of stored entries in the row.
    public var count: Int { columns.count }
    /// Whether the row stores nothing.
    public var isEmpty: Bool { columns.isEmpty }
  }

  /// The entries of row `r`, without copying.
  ///
  /// - Complexity: O(1).
  public func row(_ r: Int) -> Row {
    precondition(r >= 0 && r < shape.rows, "row \(r) out of 0..<\(shape.rows)")
    let range = rowPointers[r]..<rowPointers[r + 1]
    return Row(columns: columnIndices[range], values: values[range])
  }

  /// The number of stored entries in row `r`.
  public func rowCount(_ r: Int) -> Int { rowPointers[r + 1] - rowPointers[r] }

  /// Builds a CSR matrix from its three arrays, checking every invariant.
  ///
  /// Columns within a row may come unsorted; they are sorted (repeats are kept).
  /// - Throws: `LightFMError` for pointers that are not non-decreasing from 0 to `nnz`, an index
  ///   outside the shape, a non-finite value, or arrays of the wrong length.
  public init(
    rows: Int,
    columns: Int,
    rowPointers: [Int],
    columnIndices: [Int32],
    values: [Float]
  ) throws {
    guard rows >= 0, columns >= 0, rows <= Int(Int32.max), columns <= Int(Int32.max) else {
      throw LightFMError.invalidData(
        "invalid matrix shape \(rows) x \(columns): expected dimensions in 0...\(Int32.max)")
    }
    guard rowPointers.count == rows + 1 else {
      throw LightFMError.invalidData(
        "CSR row pointers have \(rowPointers.count) entries, expected rows + 1 = \(rows + 1)")
    }
    guard columnIndices.count == values.count else {
      throw LightFMError.invalidData(
        "CSR arrays differ in length: \(columnIndices.count) column indices, "
          + "\(values.count) values")
    }
    guard rowPointers[0] == 0, rowPointers[rows] == values.count else {
      throw LightFMError.invalidData(
        "CSR row pointers must start at 0 and end at nnz = \(values.count), "
          + "got \(rowPointers[0]) and \(rowPointers[rows])")
    }
    for r in 0..<rows where rowPointers[r] > rowPointers[r + 1] {
      throw LightFMError.invalidData(
        "CSR row pointers decrease at row \(r): \(rowPointers[r]) > \(rowPointers[r + 1])")
    }
    for r in 0..<rows {
      for n in rowPointers[r]..<rowPointers[r + 1] {
        let c = columnIndices[n]
        if c < 0 || Int(c) >= columns {
          throw LightFMError.invalidData(
            "column index \(c) at entry \(n) (row \(r)) is outside 0..<\(columns)")
        }
        if !values[n].isFinite {
          throw LightFMError.invalidData(
            "value \(values[n]) at entry \(n) (row \(r), column \(c)) is not finite")
        }
      }
    }
    var sortedColumns = columnIndices
    var sortedValues = values
    Self.sortRows(rowPointers: rowPointers, columns: &sortedColumns, values: &sortedValues)
    self.init(
      uncheckedShape: MatrixShape(rows: rows, columns: columns),
      rowPointers: rowPointers, columnIndices: sortedColumns, values: sortedValues)
  }

  /// Builds without checking; callers guarantee the invariants (sorted rows included).
  init(uncheckedShape shape: MatrixShape, rowPointers: [Int], columnIndices: [Int32], values: [Float])
  {
    self.shape = shape
    self.rowPointers = rowPointers
    self.columnIndices = columnIndices
    self.values = values
  }

  /// An empty matrix of the given shape.
  public init(emptyRows rows: Int, columns: Int) {
    self.init(
      uncheckedShape: MatrixShape(rows: rows, columns: columns),
      rowPointers: [Int](repeating: 0, count: rows + 1), columnIndices: [], values: [])
  }

  /// The `n × n` identity matrix.
  public static func identity(_ n: Int) -> CSRMatrix {
    precondition(n >= 0 && n <= Int(Int32.max), "identity size \(n) out of range")
    return CSRMatrix(
      uncheckedShape: MatrixShape(rows: n, columns: n),
      rowPointers: Array(0...n),
      columnIndices: (0..<n).map { Int32($0) },
      values: [Float](repeating: 1, count: n))
  }

  /// Whether this is exactly the identity matrix (used to skip feature aggregation).
  public var isIdentity: Bool {
    guard shape.rows == shape.columns, nnz == shape.rows else { return false }
    for r in 0..<shape.rows {
      if rowPointers[r] != r || columnIndices[r] != Int32(r) || values[r] != 1 { return false }
    }
    return true
  }

  /// Whether row `r` stores column `c` (binary search).
  ///
  /// - Complexity: O(log(row length)).
  public func contains(row r: Int, column c: Int) -> Bool {
    var lo = rowPointers[r]
    var hi = rowPointers[r + 1]
    let target = Int32(truncatingIfNeeded: c)
    while lo < hi {
      let mid = (lo + hi) >> 1
      let v = columnIndices[mid]
      if v == target { return true }
      if v < target { lo = mid + 1 } else { hi = mid }
    }
    return false
  }

  // MARK: - Sorting

  static func sortRows(rowPointers: [Int], columns: inout [Int32], values: inout [Float]) {
    let rows = rowPointers.count - 1
    for r in 0..<max(rows, 0) {
      let lo = rowPointers[r]
      let hi = rowPointers[r + 1]
      guard hi - lo > 1 else { continue }
      var sorted = true
      for n in (lo + 1)..<hi where columns[n - 1] > columns[n] {
        sorted = false
        break
      }
      if sorted { continue }
      let order = (lo..<hi).sorted { (columns[$0], $0) < (columns[$1], $1) }
      let newColumns = order.map { columns[$0] }
      let newValues = order.map { values[$0] }
      columns.replaceSubrange(lo..<hi, with: newColumns)
      values.replaceSubrange(lo..<hi, with: newValues)
    }
  }
}
