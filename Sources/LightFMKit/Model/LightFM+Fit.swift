import Foundation

// MARK: - fit and fitPartial

extension LightFM {
  /// Trains a fresh model on `interactions` (users × items; only the sign of a value matters).
  ///
  /// Re-initialises every parameter (embeddings uniform in [−0.5/d, 0.5/d), biases 0, optimiser
  /// state at its start) and re-seeds the training generator from `randomState`, then runs
  /// `epochs` epochs as `fitPartial`. Each epoch shuffles the stored entries and visits them
  /// once, updating the parameters by per-example SGD with the model's loss and learning
  /// schedule (ARCHITECTURE.md §3; Kula 2015).
  ///
  /// - Parameters:
  ///   - interactions: users × items; a value > 0 is a positive, ≤ 0 a negative (logistic
  ///     only; the ranking losses skip them).
  ///   - userFeatures: users × user features (rows ≥ users); `nil` for the identity.
  ///   - itemFeatures: items × item features (rows ≥ items); `nil` for the identity.
  ///   - sampleWeight: one weight per stored interaction, same coordinates in the same order;
  ///     it scales that example's loss. Not supported with `.warpKOS`.
  ///   - epochs: passes over the data (≥ 0).
  ///   - numThreads: Hogwild workers (≥ 1). One thread with a seed reproduces bit for bit.
  ///   - validation: held-out interactions evaluated while training, and early stopping
  ///     (`TrainingValidation`); the scores reach `progress` and the returned history.
  ///   - reportsLoss: measure each epoch's mean loss (`TrainingProgress.loss`) when something
  ///     reads it (`progress` or `validation`); `false` skips the arithmetic.
  ///   - progress: called on the calling thread after every epoch (and its evaluation) with
  ///     where training is (`TrainingProgress`; print its `description` for a log line:
  ///     training itself never prints); return `.stop` to end training after that epoch.
  /// - Returns: every epoch's report, and with validation the best and the kept epoch.
  /// - Throws: `LightFMError` for invalid hyper-parameters or arguments, non-finite values,
  ///   feature matrices that do not cover every user or item, weights that do not match the
  ///   interactions, validation interactions of the wrong shape or shared with the training
  ///   ones, or a model that diverged; `CancellationError` when the task running the call is
  ///   cancelled (checked before every epoch). On any error the model is left as it was.
  /// - Complexity: O(epochs · nnz · f · d) for f features per row; WARP-kOS and WARP score up to
  ///   `n` and `maxSampled` extra items per example.
  @discardableResult
  public mutating func fit(
    _ interactions: COOMatrix,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    sampleWeight: COOMatrix? = nil,
    epochs: Int = 1,
    numThreads: Int = 1,
    validation: TrainingValidation? = nil,
    reportsLoss: Bool = true,
    progress: ((TrainingProgress) -> TrainingDecision)? = nil
  ) throws -> TrainingHistory {
    try train(
      interactions, userFeatures: userFeatures, itemFeatures: itemFeatures,
      sampleWeight: sampleWeight, epochs: epochs, numThreads: numThreads,
      validation: validation, reportsLoss: reportsLoss, progress: progress, restart: true)
  }

  /// `fit` for interactions in CSR form (weights, if any, follow its row-major entry order).
  @discardableResult
  public mutating func fit(
    _ interactions: CSRMatrix,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    sampleWeight: COOMatrix? = nil,
    epochs: Int = 1,
    numThreads: Int = 1,
    validation: TrainingValidation? = nil,
    reportsLoss: Bool = true,
    progress: ((TrainingProgress) -> TrainingDecision)? = nil
  ) throws -> TrainingHistory {
    try fit(
      COOMatrix(interactions), userFeatures: userFeatures, itemFeatures: itemFeatures,
      sampleWeight: sampleWeight, epochs: epochs, numThreads: numThreads,
      validation: validation, reportsLoss: reportsLoss, progress: progress)
  }

  /// Continues training from the current parameters (initialising them on a model never
  /// fitted), with the same arguments as `fit`.
  ///
  /// Feature matrices must have exactly as many columns as the model was built with (use
  /// `grow(userFeatureCount:itemFeatureCount:using:)` to add features). The training generator
  /// continues where the last call left it.
  /// - Throws: as `fit`.
  @discardableResult
  public mutating func fitPartial(
    _ interactions: COOMatrix,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    sampleWeight: COOMatrix? = nil,
    epochs: Int = 1,
    numThreads: Int = 1,
    validation: TrainingValidation? = nil,
    reportsLoss: Bool = true,
    progress: ((TrainingProgress) -> TrainingDecision)? = nil
  ) throws -> TrainingHistory {
    try train(
      interactions, userFeatures: userFeatures, itemFeatures: itemFeatures,
      sampleWeight: sampleWeight, epochs: epochs, numThreads: numThreads,
      validation: validation, reportsLoss: reportsLoss, progress: progress, restart: false)
  }

  /// `fitPartial` for interactions in CSR form.
  @discardableResult
  public mutating func fitPartial(
    _ interactions: CSRMatrix,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    sampleWeight: COOMatrix? = nil,
    epochs: Int = 1,
    numThreads: Int = 1,
    validation: TrainingValidation? = nil,
    reportsLoss: Bool = true,
    progress: ((TrainingProgress) -> TrainingDecision)? = nil
  ) throws -> TrainingHistory {
    try fitPartial(
      COOMatrix(interactions), userFeatures: userFeatures, itemFeatures: itemFeatures,
      sampleWeight: sampleWeight, epochs: epochs, numThreads: numThreads,
      validation: validation, reportsLoss: reportsLoss, progress: progress)
  }

  // MARK: - The training call

  private mutating func train(
    _ interactions: COOMatrix,
    userFeatures: CSRMatrix?,
    itemFeatures: CSRMatrix?,
    sampleWeight: COOMatrix?,
    epochs: Int,
    numThreads: Int,
    validation: TrainingValidation?,
    reportsLoss: Bool,
    progress: ((TrainingProgress) -> TrainingDecision)?,
    restart: Bool
  ) throws -> TrainingHistory {
    let start = ContinuousClock.now
    try validateHyperParameters()
    if epochs < 0 { throw LightFMError.invalidParameter("epochs", epochs, expected: "at least 0") }
    if numThreads < 1 {
      throw LightFMError.invalidParameter("numThreads", numThreads, expected: "at least 1")
    }
    let existing = restart ? nil : parameters
    let users = interactions.shape.rows
    let items = interactions.shape.columns
    try Self.checkFinite(interactions.values, what: "interaction")
    let weights = try sampleWeightValues(sampleWeight, for: interactions)
    if epochs > 0 { try checkHasExamples(interactions) }
    let userMatrix = userFeatures ?? CSRMatrix.identity(users)
    let itemMatrix = itemFeatures ?? CSRMatrix.identity(items)
    try Self.checkFeatures(
      userMatrix, side: .user, entities: users, modelFeatures: existing?.userFeatureCount)
    try Self.checkFeatures(
      itemMatrix, side: .item, entities: items, modelFeatures: existing?.itemFeatureCount)
    if let existing, existing.noComponents != noComponents {
      throw LightFMError.invalidParameter(
        "noComponents", noComponents,
        expected: "the \(existing.noComponents) the model was fitted with (or call fit)")
    }
    if let existing, let fitted = Self.scheduleOfState(existing), fitted != learningSchedule {
      throw LightFMError.invalidParameter(
        "learningSchedule", learningSchedule.rawValue,
        expected: "\(fitted.rawValue), the schedule whose optimiser state the model holds "
          + "(set it back, or call fit to start over)")
    }

    var validator = try validation.map {
      try Validator(
        $0, training: interactions, users: userMatrix.shape.rows, items: itemMatrix.shape.rows)
    }

    var rng = trainingGenerator(restart: restart)
    var initial: ModelParameters
    if let existing {
      initial = existing
    } else {
      initial = ModelParameters(
        noComponents: noComponents, userFeatureCount: 0, itemFeatureCount: 0)
      initial.grow(
        userFeatureCount: userMatrix.shape.columns, itemFeatureCount: itemMatrix.shape.columns,
        schedule: learningSchedule, using: &rng)
    }

    let trainer = Trainer(
      model: self, parameters: initial, interactions: interactions, weights: weights,
      userFeatures: userMatrix, itemFeatures: itemMatrix, threads: numThreads,
      measuresLoss: reportsLoss && (progress != nil || validation != nil),
      interactionRows: validator?.training)
    var history = TrainingHistory()
    // With patience: the best evaluated epoch's parameters and generator, restored at the end.
    var best: (parameters: ModelParameters, generator: TrainingRNG)?
    let trainingStart = ContinuousClock.now
    // OpenBLAS is pinned to 1 thread while the Hogwild workers run (ARCHITECTURE.md §2), and restored
    // between epochs, so a progress callback that evaluates (GEMM scoring) runs at full speed.
    for epoch in stride(from: 1, through: epochs, by: 1) {
      // Parameters are stored into the model only after the last epoch, so a cancelled call
      // leaves it as it was.
      if Task.isCancelled { throw CancellationError() }
      let epochStart = ContinuousClock.now
      let loss = BLAS.withThreads(1) { trainer.epoch(rng: &rng, threads: numThreads) }
      try checkDivergence(trainer, epoch: epoch, threads: numThreads)
      let epochSeconds = (ContinuousClock.now - epochStart).seconds

      var scores: ValidationScores?
      if let v = validator, v.evaluates(epoch: epoch, of: epochs) {
        var snapshot = initial
        trainer.parameters.store(into: &snapshot, threads: numThreads)
        var current = self
        current.parameters = snapshot
        let evaluated = try v.scores(
          current, userFeatures: userFeatures, itemFeatures: itemFeatures, threads: numThreads)
        if validator?.record(evaluated) == true {
          history.bestEpoch = epoch
          if v.patience != nil { best = (snapshot, rng) }
        }
        scores = evaluated
      }

      let now = ContinuousClock.now
      let trainingSeconds = (now - trainingStart).seconds
      let report = TrainingProgress(
        epoch: epoch, epochs: epochs, elapsed: (now - start).seconds,
        epochSeconds: epochSeconds,
        estimatedRemaining: trainingSeconds / Double(epoch) * Double(epochs - epoch),
        loss: loss, validation: scores, bestEpoch: history.bestEpoch)
      history.epochs.append(report)
      if progress?(report) == .stop { break }
      if validator?.patienceRanOut == true, epoch < epochs {
        history.stoppedEarly = true
        break
      }
    }
    if let best, let bestEpoch = history.bestEpoch {
      parameters = best.parameters
      generator = best.generator
      history.keptEpoch = bestEpoch
    } else {
      trainer.parameters.store(into: &initial, threads: numThreads)
      parameters = initial
      generator = rng
      history.keptEpoch = history.epochs.count
    }
    return history
  }

  // MARK: - Input checks

  /// The schedule whose optimiser state `p` holds, or nil when it has no parameters.
  ///
  /// Adagrad's sums G start at 1 and only grow, and Adagrad never writes the second
  /// accumulator. Adadelta's averages start at 0, and its squared-update average turns non-zero
  /// with the first non-zero gradient. So any G < 1 or any non-zero second accumulator is
  /// Adadelta's state, and anything else is Adagrad's. Continuing with the other schedule would
  /// divide by √0 (Adagrad on Adadelta's state) or silently misuse the state.
  /// - Complexity: O(parameters), once per `fitPartial`.
  static func scheduleOfState(_ p: ModelParameters) -> LearningSchedule? {
    let sides = [p.users, p.items]
    let sums = sides.flatMap { [$0.embeddingGradients, $0.biasGradients] }
    let second = sides.flatMap { [$0.embeddingMomentum, $0.biasMomentum] }
    if sums.allSatisfy({ $0.isEmpty }) { return nil }
    let nonZero: (SIMD8<Float>) -> SIMD8<UInt32> = {
      unsafeBitCast($0, to: SIMD8<UInt32>.self) & SIMD8(repeating: 0x7FFF_FFFF)
    }
    let belowOne: (SIMD8<Float>) -> SIMD8<UInt32> = {
      SIMD8<UInt32>(repeating: 1).replacing(with: 0, where: $0 .>= 1)
    }
    if second.contains(where: { contains($0, lanes: nonZero) { $0 != 0 } }) { return .adadelta }
    if sums.contains(where: { contains($0, lanes: belowOne) { !($0 >= 1) } }) { return .adadelta }
    return .adagrad
  }

  /// Whether some value passes `test` (`ParallelSpans.firstIndex`, eight lanes at a time).
  @inline(__always)
  private static func contains(
    _ values: [Float], lanes: (SIMD8<Float>) -> SIMD8<UInt32>, _ test: (Float) -> Bool
  ) -> Bool {
    values.withUnsafeBufferPointer { v in
      guard let base = v.baseAddress else { return false }
      return ParallelSpans.firstIndex(in: base, 0..<v.count, lanes: lanes, where: test) != nil
    }
  }

  static func checkFinite(_ values: [Float], what: String) throws {
    let n = values.withUnsafeBufferPointer { v in
      v.baseAddress.flatMap { ParallelSpans.firstNonFinite($0, count: v.count, threads: 1) }
    }
    if let n {
      throw LightFMError.invalidData(
        "\(what) value \(values[n]) at stored entry \(n) is not finite")
    }
  }

  /// Checks a feature matrix against the number of users or items and, for a fitted model,
  /// the number of features it was built with (exactly that many columns, as LightFM).
  static func checkFeatures(
    _ m: CSRMatrix, side: Side, entities: Int, modelFeatures: Int?
  ) throws {
    if m.shape.rows < entities {
      throw LightFMError.invalidData(
        "the \(side) feature matrix has \(m.shape.rows) rows but the interactions have "
          + "\(entities) \(side.plural): expected one feature row per \(side) "
          + "(rows >= \(entities))")
    }
    if let modelFeatures {
      try checkFeatureMatrix(m, side: side, features: modelFeatures)
    } else {
      try checkFinite(m.values, what: "\(side) feature")
    }
  }

  /// The per-entry weights, after checking they match the interactions entry by entry.
  private func sampleWeightValues(_ w: COOMatrix?, for x: COOMatrix) throws -> [Float]? {
    guard let w else { return nil }
    if loss == .warpKOS {
      throw LightFMError.invalidParameter(
        "sampleWeight", "(given)", expected: "nil: the warp-kos loss does not support weights")
    }
    guard w.shape == x.shape, w.nnz == x.nnz else {
      throw LightFMError.invalidData(
        "sampleWeight is \(w.shape.rows) x \(w.shape.columns) with \(w.nnz) entries but the "
          + "interactions are \(x.shape.rows) x \(x.shape.columns) with \(x.nnz): expected the "
          + "same shape and coordinates")
    }
    for n in 0..<x.nnz
    where w.rowIndices[n] != x.rowIndices[n] || w.columnIndices[n] != x.columnIndices[n] {
      throw LightFMError.invalidData(
        "sampleWeight entry \(n) is at (\(w.rowIndices[n]), \(w.columnIndices[n])) but "
          + "interaction entry \(n) is at (\(x.rowIndices[n]), \(x.columnIndices[n])): expected "
          + "the same coordinates in the same order")
    }
    try Self.checkFinite(w.values, what: "sample weight")
    if let n = w.values.firstIndex(where: { $0 < 0 }) {
      throw LightFMError.invalidData(
        "sample weight \(w.values[n]) of stored entry \(n) (user row \(w.rowIndices[n]), item "
          + "column \(w.columnIndices[n])) is negative: expected weights >= 0 (a weight scales "
          + "its example's loss; 0 leaves the example out)")
    }
    return w.values
  }

  /// Throws when there is nothing to train on: no stored entry, or, for the ranking losses
  /// (which learn from positives only), no positive (value > 0).
  ///
  /// Training on nothing would return the model untouched (after a fresh `fit`: random,
  /// untrained), which looks like success. Weights of 0 are not nothing: they are the caller's
  /// way to leave examples out, and a call where every weight is 0 changes nothing, on purpose.
  /// - Complexity: O(nnz).
  private func checkHasExamples(_ x: COOMatrix) throws {
    let shape = "the \(x.shape.rows) x \(x.shape.columns) interaction matrix"
    guard x.nnz > 0 else {
      throw LightFMError.invalidData(
        "no interactions to train on: \(shape) has no stored entries")
    }
    guard loss == .logistic || x.values.contains(where: { $0 > 0 }) else {
      let what = "the \(loss.rawValue) loss learns from positive entries (value > 0)"
      throw LightFMError.invalidData(
        "no interactions to train on: \(shape) has \(x.nnz) stored entries, but \(what), and "
          + "there are none")
    }
  }
}
