/// How a fold-in treats the frozen item biases b_i when it fits a new user's embedding.
public enum FoldInItemBiases: String, CaseIterable, Sendable {
  /// Fit the preference left over after the item bias: targets y_i − b_i, so that the served
  /// score b_i + p·q_i approximates y_i. This is the default.
  case subtract
  /// Fit y_i with p·q_i alone; the biases still add to the served score.
  case ignore
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
/// p⁰ is the user's representation from features it already has (zero without), so a fold-in
/// refines a feature-only cold start instead of replacing it.
public struct FoldInOptions: Sendable, Equatable {
  /// λ relative to the mean eigenvalue of QᵀQ, tr(QᵀQ)/d: the same value works whatever the
  /// scale of the item embeddings or the size of the catalog.
  public var regularization: Float
  /// α, the extra confidence of an observed interaction per unit of its value.
  public var confidence: Float
  /// How the frozen item biases enter the fit.
  public var itemBiases: FoldInItemBiases
  /// Epochs of the model's own ranking loss on the new user's row alone, items frozen, run after
  /// the closed-form solve (0: the closed form only).
  public var refinementEpochs: Int
  /// Worker threads over users.
  public var numThreads: Int

  public init(
    regularization: Float = 0.1,
    confidence: Float = 10,
    itemBiases: FoldInItemBiases = .subtract,
    refinementEpochs: Int = 0,
    numThreads: Int = 1
  ) {
    self.regularization = regularization
    self.confidence = confidence
    self.itemBiases = itemBiases
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
