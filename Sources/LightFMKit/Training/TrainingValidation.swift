// MARK: - What to validate on

/// Validation while training: held-out interactions ranked every `every` epochs of a `fit` or
/// `fitPartial` call, optionally stopping when the monitored metric stops improving.
///
/// Each evaluation ranks every validation interaction among the items the user did not train
/// on (the call's training interactions are left out, as `Evaluation` does with
/// `trainInteractions`), through the same GEMM ranking as `LightFM.predictRank`, and reports
/// precision@k, recall@k, AUC and NDCG@k averaged over the users with validation interactions.
///
/// With `patience` P, training stops after P evaluations in a row without a strict improvement
/// of `monitor`, and the model keeps the parameters, optimiser state and generator of the best
/// evaluated epoch, not the last: with one thread and a seed it then equals the model `fit`
/// would have trained for that many epochs. To keep the best epoch without stopping early,
/// pass `patience` equal to the number of epochs.
public struct TrainingValidation: Sendable {
  /// users × items, the training interactions' shape (fewer rows allowed); every stored entry
  /// is a validation item, whatever its value. None may be a training interaction.
  public var interactions: CSRMatrix
  /// The cut-off of precision@k, recall@k and NDCG@k (≥ 1).
  public var k: Int
  /// Evaluate after every `every` epochs (≥ 1), and after the call's last epoch.
  public var every: Int
  /// Stop after this many evaluations without improvement (≥ 1), keeping the best epoch; `nil`
  /// trains every epoch and keeps the last.
  public var patience: Int?
  /// The metric whose improvement `patience` waits for, and that picks the best epoch.
  public var monitor: ValidationMetric

  /// Validation on `interactions` with the given settings (checked by `fit`, which throws
  /// `LightFMError` for a `k`, `every` or `patience` below 1).
  public init(
    _ interactions: some InteractionMatrix, k: Int = 10, every: Int = 1, patience: Int? = nil,
    monitor: ValidationMetric = .precisionAtK
  ) {
    self.interactions = interactions.interactionsCSR()
    self.k = k
    self.every = every
    self.patience = patience
    self.monitor = monitor
  }
}

/// A validation metric: the name of its field in `ValidationScores` and in the CLI's
/// `--monitor` and history files. Every one of them is better when higher.
public enum ValidationMetric: String, CaseIterable, Sendable {
  /// The fraction of the top k held by validation items (`Evaluation.precisionAtK`).
  case precisionAtK = "precision_at_k"
  /// The fraction of a user's validation items in the top k (`Evaluation.recallAtK`).
  case recallAtK = "recall_at_k"
  /// The area under the ROC curve (`Evaluation.aucScore`).
  case auc
  /// Normalised discounted cumulative gain at k (`Evaluation.ndcgAtK`).
  case ndcgAtK = "ndcg_at_k"

  /// The label for a progress line at cut-off k, e.g. `precision@10`.
  public func label(k: Int) -> String {
    switch self {
    case .precisionAtK: "precision@\(k)"
    case .recallAtK: "recall@\(k)"
    case .auc: "AUC"
    case .ndcgAtK: "NDCG@\(k)"
    }
  }
}

// MARK: - What an evaluation found

/// The validation metrics of one evaluation: means over the users with validation
/// interactions (NaN when there are none).
public struct ValidationScores: Sendable, Equatable {
  /// The cut-off of the @k metrics.
  public let k: Int
  /// Mean precision@k.
  public let precisionAtK: Double
  /// Mean recall@k.
  public let recallAtK: Double
  /// Mean AUC.
  public let auc: Double
  /// Mean NDCG@k.
  public let ndcgAtK: Double
  /// The users the means are over.
  public let users: Int
  /// Seconds the evaluation took.
  public let seconds: Double

  /// The value of `metric`.
  public subscript(metric: ValidationMetric) -> Double {
    switch metric {
    case .precisionAtK: precisionAtK
    case .recallAtK: recallAtK
    case .auc: auc
    case .ndcgAtK: ndcgAtK
    }
  }
}

/// What a `fit` or `fitPartial` call did, epoch by epoch.
public struct TrainingHistory: Sendable, Equatable {
  /// One report per epoch trained, as the progress callback received them.
  public var epochs: [TrainingProgress] = []
  /// The evaluated epoch (1-based, in this call) with the best monitored metric, or nil
  /// without validation.
  public var bestEpoch: Int?
  /// Whether `patience` ran out before the last epoch.
  public var stoppedEarly = false
  /// The epoch whose parameters the model holds: `bestEpoch` with `patience`, else the last
  /// epoch trained (0 when none).
  public var keptEpoch = 0

  /// The reports that carry validation scores.
  public var evaluations: [TrainingProgress] { epochs.filter { $0.validation != nil } }
}

// MARK: - Evaluating during a call

/// A `TrainingValidation` checked against one call's training data, ready to evaluate, and
/// the call's best evaluation so far.
struct Validator {
  let validation: TrainingValidation
  /// The call's training interactions, left out of every ranking.
  let training: CSRMatrix
  /// The best monitored value so far, and the evaluations since it.
  private var bestValue: Double?
  private var sinceBest = 0

  var patience: Int? { validation.patience }

  /// Whether epoch `epoch` (1-based) of a call of `epochs` is evaluated: every `every`
  /// epochs, and the last.
  func evaluates(epoch: Int, of epochs: Int) -> Bool {
    epoch % validation.every == 0 || epoch == epochs
  }

  /// Records an evaluation, and returns whether it strictly improves the monitored metric
  /// (the first evaluation always does).
  mutating func record(_ scores: ValidationScores) -> Bool {
    let value = scores[validation.monitor]
    guard bestValue.map({ value > $0 }) ?? true else {
      sinceBest += 1
      return false
    }
    bestValue = value
    sinceBest = 0
    return true
  }

  /// Whether `patience` evaluations in a row have not improved.
  var patienceRanOut: Bool { patience.map { sinceBest >= $0 } ?? false }

  /// Checks the settings, the shape and that no validation interaction is a training one
  /// (before the first epoch, so a bad argument costs no training).
  ///
  /// - Parameters: `users` and `items` are the rows of the call's feature matrices.
  /// - Throws: `LightFMError` naming the bad value.
  init(_ v: TrainingValidation, training coo: COOMatrix, users: Int, items: Int) throws {
    if v.k < 1 { throw LightFMError.invalidParameter("validation.k", v.k, expected: "at least 1") }
    if v.every < 1 {
      throw LightFMError.invalidParameter("validation.every", v.every, expected: "at least 1")
    }
    if let p = v.patience, p < 1 {
      throw LightFMError.invalidParameter("validation.patience", p, expected: "at least 1")
    }
    let training = CSRMatrix.converting(coo, sumDuplicates: true)
    do {
      try LightFM.checkEvaluationShapes(
        test: v.interactions, train: training, users: users, items: items)
    } catch let error as LightFMError {
      throw LightFMError(error.kind, "validation: \(error.message)")
    }
    let shared = LightFM.sharedInteractions(v.interactions, training)
    if shared > 0 {
      throw LightFMError.invalidData(
        "the validation and training interactions share \(shared) interactions: expected "
          + "held-out interactions only (the training ones are left out of the ranking)")
    }
    validation = v
    self.training = training
  }

  /// The metrics of `model` (the parameters after an epoch), all from one ranking pass
  /// (`Evaluation.metrics`).
  ///
  /// - Complexity: one `LightFM.predictRank` of the validation interactions.
  func scores(
    _ model: LightFM, userFeatures: CSRMatrix?, itemFeatures: CSRMatrix?, threads: Int
  ) throws -> ValidationScores {
    let start = ContinuousClock.now
    let m = try Evaluation.metrics(
      model, testInteractions: validation.interactions, trainInteractions: training,
      k: validation.k, userFeatures: userFeatures, itemFeatures: itemFeatures,
      numThreads: threads, checkIntersections: false)
    return ValidationScores(
      k: m.k, precisionAtK: m.mean(\.precisionAtK), recallAtK: m.mean(\.recallAtK),
      auc: m.mean(\.auc), ndcgAtK: m.mean(\.ndcgAtK), users: m.users,
      seconds: (ContinuousClock.now - start).seconds)
  }
}
