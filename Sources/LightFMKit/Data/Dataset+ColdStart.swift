// MARK: - Feature rows for ids that were never fitted

extension Dataset {
  /// Feature rows for new users, described by feature names only: one row per user, one column
  /// per user feature of the dataset, and no identity feature (a new user has no trained one).
  ///
  /// Pass the result as `userFeatures` to `LightFM.userRepresentations(features:)`,
  /// `recommend` or `predict` to serve users who were never fitted, without retraining
  /// (Kula 2015: a user is the sum of its features' embeddings). With `normalize`, each row is
  /// divided by its sum, as `buildUserFeatures` does.
  ///
  /// - Throws: `LightFMError` naming an unknown feature, a non-finite weight, or a row with
  ///   nothing in it when `normalize` is on.
  /// - Complexity: O(total features given).
  public func coldStartUserFeatures(_ rows: [[String]], normalize: Bool = true) throws
    -> CSRMatrix
  {
    try coldStartUserFeatures(rows.map { $0.map { ($0, Float(1)) } }, normalize: normalize)
  }

  /// Feature rows for new users from (feature name, weight) lists; see the unweighted variant.
  public func coldStartUserFeatures(_ rows: [[(String, Float)]], normalize: Bool = true) throws
    -> CSRMatrix
  {
    try Self.coldStartFeatures(rows, side: .user, names: userFeatureNames, normalize: normalize)
  }

  /// Feature rows for new items, described by feature names only; see
  /// `coldStartUserFeatures(_:normalize:)`.
  public func coldStartItemFeatures(_ rows: [[String]], normalize: Bool = true) throws
    -> CSRMatrix
  {
    try coldStartItemFeatures(rows.map { $0.map { ($0, Float(1)) } }, normalize: normalize)
  }

  /// Feature rows for new items from (feature name, weight) lists.
  public func coldStartItemFeatures(_ rows: [[(String, Float)]], normalize: Bool = true) throws
    -> CSRMatrix
  {
    try Self.coldStartFeatures(rows, side: .item, names: itemFeatureNames, normalize: normalize)
  }

  private static func coldStartFeatures(
    _ rows: [[(String, Float)]], side: Side, names: IDMapping, normalize: Bool
  ) throws -> CSRMatrix {
    var pointers = [0]
    var columns: [Int32] = []
    var values: [Float] = []
    for (r, features) in rows.enumerated() {
      var total: Float = 0
      for (name, weight) in features {
        guard let column = names[name] else {
          throw LightFMError(
            .unknownID,
            "unknown \(side) feature '\(name)' for new \(side) \(r): it was never fitted in "
              + "the Dataset")
        }
        guard weight.isFinite else {
          throw LightFMError.invalidData(
            "weight \(weight) of \(side) feature '\(name)' for new \(side) \(r) is not finite")
        }
        columns.append(Int32(column))
        values.append(weight)
        total += abs(weight)
      }
      if normalize && total == 0 {
        throw LightFMError.invalidData(
          "new \(side) \(r) has no features to normalise; give it at least one feature or "
            + "pass normalize: false")
      }
      pointers.append(columns.count)
    }
    let matrix = try CSRMatrix(
      rows: rows.count, columns: names.count, rowPointers: pointers, columnIndices: columns,
      values: values)
    let summed = CSRMatrix.converting(COOMatrix(matrix), sumDuplicates: true)
    return normalize ? try summed.l1Normalized() : summed
  }
}
