// MARK: - Interactions

extension Dataset {
  /// Builds the interaction matrix from (user, item) pairs; every weight is 1.
  ///
  /// - Returns: `interactions`, 1 at each observed pair, and `weights`, with the same
  ///   coordinates, holding how many times the pair was given.
  /// - Throws: `LightFMError` naming the first user or item id that was never fitted.
  public func buildInteractions<U: LosslessStringConvertible, I: LosslessStringConvertible>(
    _ pairs: some Sequence<(U, I)>
  ) throws -> (interactions: COOMatrix, weights: COOMatrix) {
    try buildInteractions(pairs.lazy.map { ($0.0, $0.1, Float(1)) })
  }

  /// Builds the interaction matrix from (user, item, weight) triples.
  ///
  /// A pair given more than once is stored once, with its weights added (LightFM keeps the
  /// repeats in its COO output; they are summed by any CSR conversion, so the model sees the same).
  /// - Returns: `interactions`, 1 at each observed pair, and `weights`, with the same coordinates.
  /// - Throws: `LightFMError` naming the first unknown id, or the first non-finite weight.
  public func buildInteractions<U: LosslessStringConvertible, I: LosslessStringConvertible>(
    _ triples: some Sequence<(U, I, Float)>
  ) throws -> (interactions: COOMatrix, weights: COOMatrix) {
    var rows: [Int32] = []
    var columns: [Int32] = []
    var weights: [Float] = []
    rows.reserveCapacity(triples.underestimatedCount)
    columns.reserveCapacity(triples.underestimatedCount)
    weights.reserveCapacity(triples.underestimatedCount)
    for (n, (user, item, weight)) in triples.enumerated() {
      let u = try userIndex(user)
      let i = try itemIndex(item)
      guard weight.isFinite else {
        throw LightFMError.invalidData(
          "weight \(weight) of interaction \(n) (user '\(user)', item '\(item)') is not finite")
      }
      rows.append(Int32(u))
      columns.append(Int32(i))
      weights.append(weight)
    }
    let summed = COOMatrix(
      uncheckedShape: interactionsShape, rowIndices: rows, columnIndices: columns, values: weights
    ).summingDuplicates()
    let ones = [Float](repeating: 1, count: summed.nnz)
    let interactions = COOMatrix(
      uncheckedShape: summed.shape, rowIndices: summed.rowIndices,
      columnIndices: summed.columnIndices, values: ones)
    return (interactions, summed)
  }

  // MARK: - Features

  /// Builds the user-feature matrix from (user, [feature name]) rows, each feature weighing 1.
  ///
  /// With identity features on, every user's own feature is set to 1 whether or not the user is
  /// listed. With `normalize`, each row is divided by its sum, so it sums to 1.
  /// - Throws: `LightFMError` for an unknown user or feature name, or for a row with nothing in it
  ///   when `normalize` is on.
  public func buildUserFeatures<U: LosslessStringConvertible>(
    _ rows: some Sequence<(U, [String])>, normalize: Bool = true
  ) throws -> CSRMatrix {
    try buildUserFeatures(
      rows.lazy.map { ($0.0, $0.1.map { ($0, Float(1)) }) }, normalize: normalize)
  }

  /// Builds the user-feature matrix from (user, [feature name: weight]) rows.
  public func buildUserFeatures<U: LosslessStringConvertible>(
    _ rows: some Sequence<(U, [String: Float])>, normalize: Bool = true
  ) throws -> CSRMatrix {
    try buildUserFeatures(
      rows.lazy.map { ($0.0, $0.1.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }) },
      normalize: normalize)
  }

  /// Builds the user-feature matrix from (user, [(feature name, weight)]) rows.
  public func buildUserFeatures<U: LosslessStringConvertible>(
    _ rows: some Sequence<(U, [(String, Float)])>, normalize: Bool = true
  ) throws -> CSRMatrix {
    try Self.buildFeatures(
      rows.lazy.map { (String(describing: $0.0), $0.1) }, side: .user, ids: userIDs,
      featureNames: userFeatureNames, identity: userIdentityFeatures, normalize: normalize)
  }

  /// Builds the item-feature matrix from (item, [feature name]) rows, each feature weighing 1.
  ///
  /// See `buildUserFeatures(_:normalize:)`.
  public func buildItemFeatures<I: LosslessStringConvertible>(
    _ rows: some Sequence<(I, [String])>, normalize: Bool = true
  ) throws -> CSRMatrix {
    try buildItemFeatures(
      rows.lazy.map { ($0.0, $0.1.map { ($0, Float(1)) }) }, normalize: normalize)
  }

  /// Builds the item-feature matrix from (item, [feature name: weight]) rows.
  public func buildItemFeatures<I: LosslessStringConvertible>(
    _ rows: some Sequence<(I, [String: Float])>, normalize: Bool = true
  ) throws -> CSRMatrix {
    try buildItemFeatures(
      rows.lazy.map { ($0.0, $0.1.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }) },
      normalize: normalize)
  }

  /// Builds the item-feature matrix from (item, [(feature name, weight)]) rows.
  public func buildItemFeatures<I: LosslessStringConvertible>(
    _ rows: some Sequence<(I, [(String, Float)])>, normalize: Bool = true
  ) throws -> CSRMatrix {
    try Self.buildFeatures(
      rows.lazy.map { (String(describing: $0.0), $0.1) }, side: .item, ids: itemIDs,
      featureNames: itemFeatureNames, identity: itemIdentityFeatures, normalize: normalize)
  }

  private static func buildFeatures(
    _ rows: some Sequence<(String, [(String, Float)])>,
    side: Side, ids: IDMapping, featureNames: IDMapping, identity: Bool, normalize: Bool
  ) throws -> CSRMatrix {
    var rowIndices: [Int32] = []
    var columnIndices: [Int32] = []
    var values: [Float] = []
    if identity {
      for (id, index) in ids {
        guard let feature = featureNames[id] else {
          throw LightFMError(.unknownID, "identity feature of \(side) '\(id)' is missing")
        }
        rowIndices.append(Int32(index))
        columnIndices.append(Int32(feature))
        values.append(1)
      }
    }
    for (id, features) in rows {
      guard let row = ids[id] else {
        throw LightFMError(
          .unknownID, "unknown \(side) id '\(id)' in \(side) features: it was never fitted")
      }
      for (name, weight) in features {
        guard let column = featureNames[name] else {
          throw LightFMError(
            .unknownID,
            "unknown \(side) feature '\(name)' for \(side) '\(id)': it was never fitted")
        }
        guard weight.isFinite else {
          throw LightFMError.invalidData(
            "weight \(weight) of \(side) feature '\(name)' for \(side) '\(id)' is not finite")
        }
        rowIndices.append(Int32(row))
        columnIndices.append(Int32(column))
        values.append(weight)
      }
    }
    let shape = MatrixShape(rows: ids.count, columns: featureNames.count)
    let matrix = COOMatrix(
      uncheckedShape: shape, rowIndices: rowIndices, columnIndices: columnIndices, values: values
    ).toCSR(sumDuplicates: true)
    guard normalize else { return matrix }
    for r in 0..<shape.rows {
      var total: Float = 0
      for v in matrix.row(r).values { total += abs(v) }
      if total == 0 {
        throw LightFMError.invalidData(
          "\(side) '\(ids.id(at: r))' has no features to normalise; give it at least one "
            + "feature or build with normalize: false")
      }
    }
    return try matrix.l1Normalized()
  }
}
