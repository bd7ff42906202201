// MARK: - The limit

extension LightFM {
  /// The largest score a trained model may be able to reach: 2²⁴ = 16,777,216.
  ///
  /// A score is `s(u, i) = b_u + b_i + p_u·q_i`, so with identity features (or rows that sum to
  /// 1) it is bounded by
  ///
  /// ```
  /// max_f ‖E^U_f‖ · max_g ‖E^I_g‖ + max_f |β^U_f| + max_g |β^I_g|
  /// ```
  ///
  /// (`ParameterExtent.scoreBound`). Past 2²⁴, a `Float` cannot tell two scores 1 apart, which
  /// is the margin WARP trains for and far past where the logistic and BPR sigmoids saturate
  /// (|s| ≈ 17): training has run away even while every value is still finite (a learning rate
  /// of 10⁶ gives 10¹⁴ and more). Models trained with sane settings stay many orders of
  /// magnitude below: on MovieLens 100K (ratings ≥ 4, WARP, d = 30, 10 epochs) the bound is
  /// about 9. `fit` and `fitPartial` check the bound after every epoch, and loading a model file
  /// checks it again.
  public static let scoreLimit: Float = 16_777_216
}

// MARK: - Measuring the parameters

/// The largest embedding norms and biases of a model's two sides, and the score bound they give.
struct ParameterExtent: Equatable {
  /// max_f ‖E_f‖ for users and items (in `Double`, where the squares of finite floats cannot
  /// overflow).
  var userNorm: Double
  var itemNorm: Double
  /// max_f |β_f| for users and items.
  var userBias: Double
  var itemBias: Double

  /// The bound on |s(u, i)| (see `LightFM.scoreLimit`).
  var scoreBound: Double { userNorm * itemNorm + userBias + itemBias }

  /// Whether the bound is past `LightFM.scoreLimit` (or not a number).
  var ranAway: Bool { !(scoreBound <= Double(LightFM.scoreLimit)) }

  /// What the bound is made of, for messages.
  var description: String {
    "largest user and item embedding norms \(userNorm) and \(itemNorm), largest user and "
      + "item biases \(userBias) and \(itemBias)"
  }

  /// Whether every value measured was finite: the bound is finite exactly then, since the
  /// squares and sums of finite floats cannot overflow in `Double`.
  var isFinite: Bool { scoreBound.isFinite }

  /// The largest Euclidean norm of the rows of a `rows × d` row-major matrix (NaN once a row
  /// holds a NaN, infinite once one holds an infinity and none a NaN).
  ///
  /// - Complexity: O(rows · d), no allocation.
  static func largestRowNorm(_ values: UnsafePointer<Float>, rows: Int, d: Int) -> Double {
    var largest: Double = 0
    for r in 0..<rows {
      let row = values + r * d
      var sum: Double = 0
      for c in 0..<d { sum += Double(row[c]) * Double(row[c]) }
      // NaN stays the largest once seen (no comparison with it holds).
      if sum > largest || sum.isNaN { largest = sum }
    }
    return largest.squareRoot()
  }

  /// The largest |value| of `count` values (NaN once one is NaN, as `largestRowNorm`).
  static func largestMagnitude(_ values: UnsafePointer<Float>, count: Int) -> Double {
    var largest: Float = 0
    for n in 0..<count where values[n].magnitude > largest || values[n].isNaN {
      largest = values[n].magnitude
    }
    return Double(largest)
  }

  /// The extent of a model's parameters.
  init(_ p: ModelParameters) {
    func side(_ s: SideParameters) -> (Double, Double) {
      let norm = s.embeddings.withUnsafeBufferPointer {
        $0.baseAddress.map { Self.largestRowNorm($0, rows: s.featureCount, d: p.noComponents) }
      }
      let bias = s.biases.withUnsafeBufferPointer { b in
        b.baseAddress.map { Self.largestMagnitude($0, count: b.count) }
      }
      return (norm ?? 0, bias ?? 0)
    }
    (userNorm, userBias) = side(p.users)
    (itemNorm, itemBias) = side(p.items)
  }

  /// The extent of the parameters being trained.
  init(_ p: TrainingParameters) {
    func side(_ s: ParameterSideBuffers) -> (Double, Double) {
      let biases = s[.biases]
      return (
        Self.largestRowNorm(s[.embeddings].base, rows: biases.count, d: p.noComponents),
        Self.largestMagnitude(biases.base, count: biases.count)
      )
    }
    (userNorm, userBias) = side(p.users)
    (itemNorm, itemBias) = side(p.items)
  }
}

// MARK: - The check after each epoch

extension LightFM {
  /// Throws when the epoch just trained left a non-finite value, or a score bound past
  /// `scoreLimit` (a run-away even while every value is finite).
  ///
  /// One pass measures the extent, which is not finite exactly when some value is not; only
  /// then does a second pass find the first such value for the message.
  /// - Complexity: O(parameters) (the rare non-finite search split over `threads`).
  func checkDivergence(_ trainer: Trainer, epoch: Int, threads: Int) throws {
    let extent = ParameterExtent(trainer.parameters)
    if !extent.isFinite, let (array, index) = trainer.firstNonFinite(threads: threads) {
      throw LightFMError(
        .diverged,
        "training diverged in epoch \(epoch): \(array)[\(index)] is not finite; "
          + divergenceAdvice)
    }
    if extent.ranAway {
      throw LightFMError(
        .diverged,
        "training ran away in epoch \(epoch): scores can reach \(extent.scoreBound) "
          + "(\(extent.description)), past the limit of \(Self.scoreLimit) (2^24, where Float "
          + "can no longer tell scores 1 apart); " + divergenceAdvice)
    }
  }

  /// What to lower after a divergence.
  private var divergenceAdvice: String {
    "lower the learning rate (now \(learningRate)), adjust the regularisation (userAlpha "
      + "\(userAlpha), itemAlpha \(itemAlpha): a little helps, but as in LightFM's lazy L2, "
      + "values near 0.1 and above can themselves diverge) or normalise the features and "
      + "weights. The model is left as it was before this call."
  }
}
