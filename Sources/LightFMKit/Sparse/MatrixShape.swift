/// The shape of a matrix: rows × columns.
public struct MatrixShape: Hashable, Sendable, CustomStringConvertible {
  public var rows: Int
  public var columns: Int

  public init(rows: Int, columns: Int) {
    precondition(rows >= 0 && columns >= 0, "matrix dimensions must be non-negative")
    self.rows = rows
    self.columns = columns
  }

  public var description: String { "\(rows) x \(columns)" }
}
