// MARK: - Fold-in: users who arrived after training

extension LightFM {
  /// Representations of users the model never trained, solved in closed form from their
  /// interactions against the frozen item representations. Nothing in the model changes.
  ///
  /// ```
  /// p_u = argmin_p  Σ_i c_i (y_i − o_i − p·q_i)² + λ‖p − p⁰_u‖²      (see FoldInOptions)
  /// (QᵀQ + λI + Σ_{i∈P_u} α w_i q_i q_iᵀ)(p_u − p⁰_u) = Σ_{i∈P_u} ((1 + α w_i) − α w_i o_i) q_i
  ///                                                   − β Qᵀb − QᵀQ p⁰_u
  /// ```
  ///
  /// This is one alternating-least-squares half-step of implicit-feedback matrix factorisation
  /// (Hu, Koren & Volinsky 2008) with the items held fixed: QᵀQ comes from one `ssyrk` and is
  /// shared by every user; each user costs a rank-|P_u| `ssyrk` update and a `sposv` Cholesky
  /// solve of a d × d system. The bias b_u is that of p⁰_u's features (0 without): it does not
  /// change a user's ranking. LightFM has no equivalent; its users retrain the whole model.
  ///
  /// - Parameters:
  ///   - interactions: one row per new user, one column per item. Entries with a value > 0 are
  ///     the user's positives, the value w scaling the confidence 1 + α·w (pass the weights
  ///     matrix of `Dataset.buildInteractions` to weigh repeats). Other entries are ignored. A
  ///     user without positives gets p⁰ (a feature-only cold start).
  ///   - userFeatures: the features the new users already have, one row per row of
  ///     `interactions` and one column per user feature of the model, giving p⁰ and b_u; `nil`
  ///     means none (p⁰ = 0). Their identity features, which were never trained, must be left out.
  ///   - itemFeatures: `items × itemFeatureCount`, as in `fit`; `nil` means identity features.
  ///   - trainedUserFeatures: the feature rows of users the model was trained on, whose mean
  ///     representation length `FoldInScale.trainedUsers` matches; `nil` means one user per user
  ///     feature (identity features: exactly the trained users).
  ///   - options: λ, α, how biases and scale are treated, threads.
  /// - Returns: `biases` (one per row of `interactions`) and `embeddings` (rows × d, row-major),
  ///   to score like any representation.
  /// - Throws: `LightFMError` when the model is not fitted, the options are invalid, or the
  ///   matrices do not fit the model.
  /// - Complexity: O(n·d²) for QᵀQ, then O(|P_u|·d² + d³) per user, over `options.numThreads`.
  public func foldInRepresentations(
    interactions: CSRMatrix,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    trainedUserFeatures: CSRMatrix? = nil,
    options: FoldInOptions = FoldInOptions()
  ) throws -> (biases: [Float], embeddings: [Float]) {
    try options.validate()
    let d = noComponents
    let items = try itemRepresentations(features: itemFeatures)
    try Self.checkFoldInShapes(interactions: interactions, itemCount: items.biases.count)
    let users = interactions.shape.rows
    var prior: (biases: [Float], embeddings: [Float])?
    if let userFeatures {
      guard userFeatures.shape.rows == users else {
        throw LightFMError.invalidData(
          "the new users' feature matrix has \(userFeatures.shape.rows) rows, but the "
            + "interactions have \(users): expected one feature row per new user")
      }
      prior = try userRepresentations(features: userFeatures)
    }
    var targetNorm: Float?
    if options.scale == .trainedUsers {
      let trained = try userRepresentations(features: trainedUserFeatures)
      targetNorm = Self.meanNorm(trained.embeddings, d: d, skipping: [])
    }
    let solver = FoldInSolver(
      itemBiases: items.biases, itemEmbeddings: items.embeddings, noComponents: d)
    let embeddings = try solving(
      solver, interactions: interactions, prior: prior?.embeddings, options: options,
      targetNorm: targetNorm)
    return (prior?.biases ?? [Float](repeating: 0, count: users), embeddings)
  }

  /// Folds users into the model itself: each listed user's own (identity) feature receives the
  /// embedding that makes its representation the fold-in solution, so that every other API
  /// (`predict`, `recommend`, `predictRank`, the evaluation functions, model files) then serves
  /// the user like a trained one. Nothing else in the model changes.
  ///
  /// The usual sequence, for users who arrived after training:
  ///
  /// ```swift
  /// try dataset.fitPartial(users: newIDs)                 // new ids, new identity features
  /// let (interactions, _) = try dataset.buildInteractions(newPairs)
  /// try model.foldIn(users: newIDs.map { dataset.mapping().userIdMap[$0]! },
  ///                  interactions: interactions, dataset: dataset, using: &generator)
  /// ```
  ///
  /// The model first grows to the dataset's feature counts (`grow(to:using:)`). For user u with
  /// identity feature c (weight x_c in its feature row) and other features giving p⁰_u, the
  /// solution p_u of `foldInRepresentations` (with p⁰_u as the prior) is stored as
  ///
  /// ```
  /// E^U_c = (p_u − p⁰_u) / x_c        β^U_c = 0
  /// ```
  ///
  /// so that Σ_f x_uf E^U_f = p_u. Optimiser accumulators are left as they are: a later
  /// `fitPartial` continues from the folded-in embedding.
  ///
  /// - Parameters:
  ///   - users: the users to fold in, as indices of the dataset's user mapping (rows of
  ///     `interactions` and `userFeatures`). Listing a trained user replaces its embedding.
  ///   - interactions: `users × items` (e.g. from `dataset.buildInteractions`); only the listed
  ///     rows are read. See `foldInRepresentations` for how values are used.
  ///   - dataset: the mappings the model is fitted with, user identity features on.
  ///   - userFeatures: the full user-feature matrix, as in `fit` and `predict`; `nil` means
  ///     identity features only.
  ///   - itemFeatures: as in `fit`; `nil` means identity features.
  ///   - options: see `FoldInOptions`. The reference length of `.trainedUsers` is the mean over
  ///     the users that are neither listed nor new to the model in this call.
  ///   - generator: initial values for rows added by the growth, as `grow(to:using:)`.
  /// - Throws: `LightFMError` when the model is not fitted, the dataset has user identity
  ///   features off or is not the model's, a user index is out of range, a listed user's feature
  ///   row lacks its identity feature, or the matrices do not fit the model.
  /// - Complexity: that of `foldInRepresentations`, plus O(nnz(userFeatures)·d).
  public mutating func foldIn(
    users: [Int],
    interactions: CSRMatrix,
    dataset: Dataset,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    options: FoldInOptions = FoldInOptions(),
    using generator: inout some RandomNumberGenerator
  ) throws {
    // The work happens on a copy, kept only when every step succeeds: a call that throws
    // (after the growth, say) leaves the model exactly as it was, as `fit` does. The copy
    // costs one copy of the grown arrays, small beside the solve.
    var updated = self
    try updated.foldInInPlace(
      users: users, interactions: interactions, dataset: dataset, userFeatures: userFeatures,
      itemFeatures: itemFeatures, options: options, using: &generator)
    self = updated
  }

  private mutating func foldInInPlace(
    users: [Int],
    interactions: CSRMatrix,
    dataset: Dataset,
    userFeatures: CSRMatrix?,
    itemFeatures: CSRMatrix?,
    options: FoldInOptions,
    using generator: inout some RandomNumberGenerator
  ) throws {
    try options.validate()
    guard dataset.userIdentityFeatures else {
      throw LightFMError.invalidData(
        "fold-in stores each new user in its identity feature, but the dataset has user "
          + "identity features off: use foldInRepresentations instead")
    }
    _ = try fittedParameters()
    let featuresBefore = userFeatureCount
    try grow(to: dataset, using: &generator)
    let d = noComponents
    let userCount = dataset.userIDs.count
    if let userFeatures, userFeatures.shape.rows != userCount {
      throw LightFMError.invalidData(
        "the user-feature matrix has \(userFeatures.shape.rows) rows, but the dataset has "
          + "\(userCount) users: expected one row per user")
    }
    if interactions.shape.rows > userCount {
      throw LightFMError.invalidData(
        "the interactions have \(interactions.shape.rows) rows, more than the dataset's "
          + "\(userCount) users")
    }
    // Each listed user's identity column and its weight in the user's feature row.
    var identity: [(column: Int, weight: Float)] = []
    identity.reserveCapacity(users.count)
    try Self.checkIndices(users, side: .user, rows: interactions.shape.rows)
    for u in users {
      let id = dataset.userIDs.id(at: u)
      guard let column = dataset.userFeatureNames[id] else {
        throw LightFMError(.unknownID, "user '\(id)' has no identity feature in the dataset")
      }
      if let userFeatures {
        let row = userFeatures.row(u)
        guard let at = row.columns.firstIndex(of: Int32(column)), row.values[at] != 0 else {
          throw LightFMError.invalidData(
            "the feature row of user '\(id)' does not hold its identity feature "
              + "'\(id)' (column \(column)), where the fold-in is stored")
        }
        identity.append((column, row.values[at]))
      } else {
        guard column == u else {
          throw LightFMError.invalidData(
            "the dataset has user features besides the identity ones (user '\(id)' is row \(u) "
              + "but feature \(column)): pass the user-feature matrix")
        }
        identity.append((column, 1))
      }
    }
    // p⁰: every feature of a listed user except its own.
    var priorRows: [Int32] = []
    var priorColumns: [Int32] = []
    var priorValues: [Float] = []
    if let userFeatures {
      for (n, u) in users.enumerated() {
        let row = userFeatures.row(u)
        for (c, x) in zip(row.columns, row.values) where Int(c) != identity[n].column {
          priorRows.append(Int32(n))
          priorColumns.append(c)
          priorValues.append(x)
        }
      }
    }
    let priorFeatures = try CSRMatrix(
      COOMatrix(
        rows: users.count, columns: userFeatureCount, rowIndices: priorRows,
        columnIndices: priorColumns, values: priorValues))
    let prior = try userRepresentations(features: priorFeatures)

    var targetNorm: Float?
    if options.scale == .trainedUsers {
      let trained = try userRepresentations(features: userFeatures)
      var skip = Set(users)
      if userFeatures == nil {
        skip.formUnion(featuresBefore..<userFeatureCount)
      } else {
        for (id, u) in dataset.userIDs {
          if let c = dataset.userFeatureNames[id], c >= featuresBefore { skip.insert(u) }
        }
      }
      targetNorm = Self.meanNorm(trained.embeddings, d: d, skipping: skip)
    }
    let items = try itemRepresentations(features: itemFeatures)
    try Self.checkFoldInShapes(interactions: interactions, itemCount: items.biases.count)
    let solver = FoldInSolver(
      itemBiases: items.biases, itemEmbeddings: items.embeddings, noComponents: d)
    let solved = try solving(
      solver, interactions: interactions.selectingRows(users), prior: prior.embeddings,
      options: options, targetNorm: targetNorm)

    guard var updated = parameters else { return }
    parameters = nil  // unique ownership: write in place
    for (n, (column, weight)) in identity.enumerated() {
      for c in 0..<d {
        updated.users.embeddings[column * d + c] =
          (solved[n * d + c] - prior.embeddings[n * d + c]) / weight
      }
      updated.users.biases[column] = 0
    }
    parameters = updated
  }

  /// `foldIn(users:interactions:dataset:userFeatures:itemFeatures:options:using:)` with the
  /// model's own training generator for the rows the growth adds.
  public mutating func foldIn(
    users: [Int],
    interactions: CSRMatrix,
    dataset: Dataset,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    options: FoldInOptions = FoldInOptions()
  ) throws {
    var rng = trainingGenerator()
    try foldIn(
      users: users, interactions: interactions, dataset: dataset, userFeatures: userFeatures,
      itemFeatures: itemFeatures, options: options, using: &rng)
    generator = rng
  }

  // MARK: - Helpers

  static func checkFoldInShapes(interactions: CSRMatrix, itemCount: Int) throws {
    guard interactions.shape.columns == itemCount else {
      throw LightFMError.invalidData(
        "the fold-in interactions have \(interactions.shape.columns) columns, but the model "
          + "scores \(itemCount) items: expected one column per item")
    }
  }

  /// Runs the solver, then the optional refinement, and turns a LAPACK failure into a
  /// `LightFMError`.
  func solving(
    _ solver: FoldInSolver, interactions: CSRMatrix, prior: [Float]?, options: FoldInOptions,
    targetNorm: Float?
  ) throws -> [Float] {
    do {
      var solved = try solver.solve(
        interactions: interactions, prior: prior, options: options, targetNorm: targetNorm)
      if options.refinementEpochs > 0 {
        solver.refine(
          &solved, interactions: interactions,
          refinement: FoldInRefinement(model: self, epochs: options.refinementEpochs),
          threads: options.numThreads)
      }
      return solved
    } catch let failure as FoldInSolver.Failure {
      throw LightFMError.invalidData(
        "fold-in of user row \(failure.user) failed: its system is not positive definite "
          + "(LAPACK info \(failure.info)); the item representations are probably not finite")
    }
  }

  /// The mean Euclidean length of the rows of a `rows × d` matrix, leaving out `skipping`;
  /// `nil` when no row is left or the mean is 0.
  static func meanNorm(_ rows: [Float], d: Int, skipping: Set<Int>) -> Float? {
    var total: Double = 0
    var count = 0
    rows.withUnsafeBufferPointer { buffer in
      for r in 0..<(buffer.count / d) where !skipping.contains(r) {
        let row = buffer.baseAddress! + r * d
        total += Double(SIMDKernels.dot(row, row, d).squareRoot())
        count += 1
      }
    }
    guard count > 0, total > 0 else { return nil }
    return Float(total / Double(count))
  }
}

// MARK: - Row selection

extension CSRMatrix {
  /// A matrix of the given rows, in the given order (repeats allowed).
  ///
  /// - Complexity: O(rows.count + their entries).
  func selectingRows(_ rows: [Int]) -> CSRMatrix {
    var pointers = [0]
    pointers.reserveCapacity(rows.count + 1)
    var columns: [Int32] = []
    var values: [Float] = []
    for r in rows {
      let row = self.row(r)
      columns += row.columns
      values += row.values
      pointers.append(columns.count)
    }
    return CSRMatrix(
      uncheckedShape: MatrixShape(rows: rows.count, columns: shape.columns),
      rowPointers: pointers, columnIndices: columns, values: values)
  }
}
