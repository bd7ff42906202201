/// A hybrid matrix-factorisation recommender: users and items are sums of feature embeddings.
///
/// ```
/// p_u = Σ_f x_uf E^U_f     b_u = Σ_f x_uf β^U_f
/// q_i = Σ_f y_if E^I_f     b_i = Σ_f y_if β^I_f
/// s(u, i) = b_u + b_i + p_u · q_i
/// ```
///
/// Without feature matrices, identity features give plain matrix factorisation with biases
/// (Kula 2015, "Metadata Embeddings for User and Item Cold-start Recommendations").
public struct LightFM: Sendable {
  // MARK: - Hyper-parameters (LightFM's names in Swift style, LightFM's defaults)

  /// d, the dimension of every embedding.
  public var noComponents: Int
  /// For `.warpKOS`: the k-th highest scored of the sampled positives is used.
  public var k: Int
  /// For `.warpKOS`: how many positives are sampled per example.
  public var n: Int
  /// How each parameter's step size adapts (Adagrad or Adadelta).
  public var learningSchedule: LearningSchedule
  /// The loss `fit` minimises.
  public var loss: Loss
  /// The initial learning rate (Adagrad).
  public var learningRate: Float
  /// Adadelta's decay.
  public var rho: Float
  /// Adadelta's conditioning constant.
  public var epsilon: Float
  /// L2 penalty on item features, applied as LightFM does through a lazy per-side scale
  /// (`LazyL2`): after every example the whole side decays by 1/(1 + α·η̄), η̄ the example's
  /// mean step size, settled at the end of each epoch. A value tuned for LightFM means the
  /// same here: on WARP/MovieLens both end near a mean item-embedding norm of 0.78 at α = 1e-3
  /// and 0.02 at α = 1e-2, from 1.0 at α = 0. Values around 1e-2 and above shrink the
  /// embeddings towards zero within a few epochs.
  public var itemAlpha: Float
  /// L2 penalty on user features, applied as `itemAlpha`.
  public var userAlpha: Float
  /// For WARP: the most negatives drawn per positive before giving up.
  public var maxSampled: Int
  /// The seed; `nil` draws one from the system generator at the first `fit`.
  public var randomState: UInt64?

  /// The learned state; `nil` until the first `fit`.
  var parameters: ModelParameters?
  /// The training generator: seeded from `randomState` by `fit`, advanced by every epoch, so
  /// that successive `fitPartial` calls continue the random stream instead of repeating it.
  var generator: TrainingRNG?

  /// The generator a call that trains or grows draws from: `generator` where the last call
  /// left it, or (always with `restart`, as `fit`) a fresh one seeded from `randomState`, at
  /// random without a seed.
  func trainingGenerator(restart: Bool = false) -> TrainingRNG {
    (restart ? nil : generator)
      ?? TrainingRNG(seed: randomState ?? UInt64.random(in: .min ... .max))
  }

  /// An unfitted model with LightFM's hyper-parameters and defaults (see the properties).
  public init(
    noComponents: Int = 10,
    k: Int = 5,
    n: Int = 10,
    learningSchedule: LearningSchedule = .adagrad,
    loss: Loss = .logistic,
    learningRate: Float = 0.05,
    rho: Float = 0.95,
    epsilon: Float = 1e-6,
    itemAlpha: Float = 0,
    userAlpha: Float = 0,
    maxSampled: Int = 10,
    randomState: UInt64? = nil
  ) {
    self.noComponents = noComponents
    self.k = k
    self.n = n
    self.learningSchedule = learningSchedule
    self.loss = loss
    self.learningRate = learningRate
    self.rho = rho
    self.epsilon = epsilon
    self.itemAlpha = itemAlpha
    self.userAlpha = userAlpha
    self.maxSampled = maxSampled
    self.randomState = randomState
  }

  /// Whether `fit` has run.
  public var isFitted: Bool { parameters != nil }

  /// The number of user features the model was built with (0 before fitting).
  public var userFeatureCount: Int { parameters?.userFeatureCount ?? 0 }
  /// The number of item features the model was built with (0 before fitting).
  public var itemFeatureCount: Int { parameters?.itemFeatureCount ?? 0 }

  /// Checks every hyper-parameter.
  ///
  /// - Throws: `LightFMError` naming the first invalid value and its allowed range.
  public func validateHyperParameters() throws {
    if noComponents < 1 {
      throw LightFMError.invalidParameter("noComponents", noComponents, expected: "at least 1")
    }
    if k < 1 { throw LightFMError.invalidParameter("k", k, expected: "at least 1") }
    if n < 1 { throw LightFMError.invalidParameter("n", n, expected: "at least 1") }
    if !(learningRate.isFinite && learningRate > 0) {
      throw LightFMError.invalidParameter(
        "learningRate", learningRate, expected: "a finite value > 0")
    }
    if !(rho.isFinite && rho > 0 && rho < 1) {
      throw LightFMError.invalidParameter("rho", rho, expected: "a value in (0, 1)")
    }
    if !(epsilon.isFinite && epsilon > 0) {
      throw LightFMError.invalidParameter("epsilon", epsilon, expected: "a finite value > 0")
    }
    if !(itemAlpha.isFinite && itemAlpha >= 0) {
      throw LightFMError.invalidParameter("itemAlpha", itemAlpha, expected: "a finite value >= 0")
    }
    if !(userAlpha.isFinite && userAlpha >= 0) {
      throw LightFMError.invalidParameter("userAlpha", userAlpha, expected: "a finite value >= 0")
    }
    if maxSampled < 1 {
      throw LightFMError.invalidParameter("maxSampled", maxSampled, expected: "at least 1")
    }
  }
}

extension LightFM {
  /// The loss a `LightFM` model is trained with.
  public enum Loss: String, CaseIterable, Sendable {
    /// Pointwise logistic loss on every interaction, positive (value > 0) or negative.
    case logistic
    /// Bayesian Personalised Ranking (Rendle et al. 2009): a positive against a sampled
    /// negative.
    case bpr
    /// Weighted Approximate-Rank Pairwise (Weston et al. 2011).
    case warp
    /// k-th order statistic WARP (Weston et al. 2013).
    case warpKOS = "warp-kos"
  }

  /// The per-parameter learning-rate schedule.
  public enum LearningSchedule: String, CaseIterable, Sendable {
    /// Adagrad (Duchi et al. 2011).
    case adagrad
    /// Adadelta (Zeiler 2012).
    case adadelta
  }
}

/// The old top-level name of `LightFM.Loss`.
@available(*, deprecated, renamed: "LightFM.Loss")
public typealias Loss = LightFM.Loss

/// The old top-level name of `LightFM.LearningSchedule`.
@available(*, deprecated, renamed: "LightFM.LearningSchedule")
public typealias LearningSchedule = LightFM.LearningSchedule
