import XCTest

@testable import LightFMKit

/// Helpers shared by the tests that train tiny cases by hand (`TrainingTests`,
/// `TrainingLossTests`).
protocol TrainingFixtures {}

extension TrainingFixtures {
  /// A COO matrix from (row, column, value) entries, in that order.
  func coo(_ rows: Int, _ columns: Int, _ entries: [(Int, Int, Float)]) throws -> COOMatrix {
    try COOMatrix(
      rows: rows, columns: columns, rowIndices: entries.map { Int32($0.0) },
      columnIndices: entries.map { Int32($0.1) }, values: entries.map { $0.2 })
  }

  /// The parameters `fit` starts from: a fit of 0 epochs initialises without training.
  func initial(_ model: LightFM, _ x: COOMatrix, itemFeatures: CSRMatrix? = nil) throws
    -> (LightFM, ModelParameters)
  {
    var m = model
    try m.fit(x, itemFeatures: itemFeatures, epochs: 0)
    return (m, try XCTUnwrap(m.parameters))
  }

  /// Row `r` of a row-major matrix of `d` columns.
  func row(_ a: [Float], _ r: Int, _ d: Int) -> [Float] { Array(a[(r * d)..<((r + 1) * d)]) }
}
