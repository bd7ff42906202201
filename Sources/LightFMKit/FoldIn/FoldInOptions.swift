/// How a fold-in treats the frozen item biases b_i when it fits a new user's embedding.
public enum FoldInItemBiases: String, CaseIterable, Sendable {
  /// Fit y_i with p·q_i alone; the biases still add to the served score. The default: on
  /// MovieLens 100K it ranks better than `.subtract` at every λ and α we tried.
  case ignore
  /// Fit the preference left over after the item bias: targets y_i − b_i, so that the served
  /// score b_i + p·q_i approximates y_i.
  case subtract
}

/// How long a folded-in embedding is.
///
/// The least-squares solution fits preferences of 0 and 1, a scale unrelated to that of a model
/// trained with a ranking loss, where the length of p sets how much the user's taste counts
/// against the item biases (which mostly encode popularity).
public enum FoldInScale: String, CaseIterable, Sendable {
  /// Rescale each solved p to the mean length of the trained users' representations, so that a
  /// folded-in user weighs taste against popularity as a trained user does. The default.
  case trainedUsers
  /// Keep the least-squares solution as it is.
  case leastSquares
}

/// The knobs of a fold-in: the regularised, confidence-weighted least squares of
/// implicit-feedback matrix factorisation (Hu, Koren & Volinsky 2008).
///
/// ```
/// p_u = argmin_p  Σ_i c_i (y_i − o_i − p·q_i)² + λ‖p − p⁰‖²
/// y_i = 1 for the user's positives, 0 for every other item
/// c_i = 1 + α·w_i for a positive with value w_i, 1 otherwise
/// o_i = b_i (with `.subtract`) + p⁰·q_i,   λ = regularization · tr(QᵀQ) / d
/// ```
///
/// p⁰ is the user's representation from features it already has (zero without); the fit is
/// centred on it (a fold-in refining a feature-only cold start) with `featurePrior`, on 0
/// otherwise (then o_i has no p⁰ term). Then, with `scale` at
/// `.trainedUsers`, p is rescaled to the mean length of the trained users' representations.
///
/// The defaults were chosen on MovieLens 100K (ratings ≥ 4, a tenth of the users held out of
/// training and folded in from `ua.base`, evaluated on `ua.test`, three folds, WARP and BPR at
/// d = 10, 32, 64): λ = 3 and α = 10 with `.ignore` and `.trainedUsers` matched the precision@10
/// and AUC of the same users trained normally; λ from 1 to 10 and α from 3 to 10 were within
/// noise of it, λ ≤ 0.1 or α = 1 clearly worse.
public struct FoldInOptions: Sendable, Equatable {
  /// λ relative to the mean eigenvalue of QᵀQ, tr(QᵀQ)/d: the same value works whatever the
  /// scale of the item embeddings or the size of the catalog.
  public var regularization: Float
  /// α, the extra confidence of an observed interaction per unit of its value.
  public var confidence: Float
  /// How the frozen item biases enter the fit.
  public var itemBiases: FoldInItemBiases
  /// How long the folded-in embeddings are.
  public var scale: FoldInScale
  /// Whether a user's feature-only representation p⁰ is the centre of the regularisation
  /// (λ‖p − p⁰‖²) rather than 0 (λ‖p‖²). Off by default: on MovieLens 100K with age, gender and
  /// occupation as user features it lowered precision@10 (README, "New users and items"), because
  /// those features say little about taste and λ pulls every new user toward them. Without
  /// positives a user gets p⁰ either way.
  public var featurePrior: Bool
  /// Epochs of the model's own ranking loss on the new user's row alone, items frozen, run after
  /// the closed-form solve (0: the closed form only).
  public var refinementEpochs: Int
  /// Worker threads over users.
  public var numThreads: Int

  /// Options with the given values (each property describes its default).
  public init(
    regularization: Float = 3,
    confidence: Float = 10,
    itemBiases: FoldInItemBiases = .ignore,
    scale: FoldInScale = .trainedUsers,
    featurePrior: Bool = false,
    refinementEpochs: Int = 0,
    numThreads: Int = 1
  ) {
    self.regularization = regularization
    self.confidence = confidence
    self.itemBiases = itemBiases
    self.scale = scale
    self.featurePrior = featurePrior
    self.refinementEpochs = refinementEpochs
    self.numThreads = numThreads
  }

  /// Checks every option.
  ///
  /// - Throws: `LightFMError` naming the first invalid option and its allowed range.
  public func validate() throws {
    if !(regularization.isFinite && regularization > 0) {
      throw LightFMError.invalidParameter(
        "regularization", regularization, expected: "a finite value > 0")
    }
    if !(confidence.isFinite && confidence >= 0) {
      throw LightFMError.invalidParameter(
        "confidence", confidence, expected: "a finite value >= 0")
    }
    if refinementEpochs < 0 {
      throw LightFMError.invalidParameter(
        "refinementEpochs", refinementEpochs, expected: "at least 0")
    }
    if numThreads < 1 {
      throw LightFMError.invalidParameter("numThreads", numThreads, expected: "at least 1")
    }
  }
}
