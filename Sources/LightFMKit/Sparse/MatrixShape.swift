/// The shape of a matrix: rows × columns.
public struct MatrixShape: Hashable, Sendable, CustomStringConvertible {
  /// The number of rows.
  public var rows: Int
  /// The number of columns.
  public var columns: Int

  /// A shape of non-negative `rows` and `columns`.
  public init(rows: Int, columns: Int) {
    precondition(rows >= 0 && columns >= 0, "matrix dimensions must be non-negative")
    self.rows = rows
    self.columns = columns
  }

  /// "rows x columns".
  public var description: String { "\(rows) x \(columns)" }
}
