/// A sparse interaction matrix the evaluation functions accept: `COOMatrix` or `CSRMatrix`.
public protocol InteractionMatrix: Sendable {
  /// The matrix in compressed-row form (a COO matrix's repeated coordinates are summed).
  func interactionsCSR() -> CSRMatrix
}

extension CSRMatrix: InteractionMatrix {
  /// The matrix itself.
  public func interactionsCSR() -> CSRMatrix { self }
}

extension COOMatrix: InteractionMatrix {
  /// The matrix in compressed-row form, repeated coordinates summed.
  public func interactionsCSR() -> CSRMatrix { CSRMatrix.converting(self, sumDuplicates: true) }
}
