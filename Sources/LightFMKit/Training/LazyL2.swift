import Foundation

/// LightFM's lazy L2 regularisation, one scale per side.
///
/// Shrinking every parameter of a side after every example would cost O(features·d) per
/// example. LightFM instead keeps a per-side scale S (a `Double`, 1 at the start of an epoch)
/// and, for an example whose updates used step sizes η₁ … η_m (mean η̄):
///
/// ```
/// every updated stored value:   θ ← θ·(1 + α·η)          (Optimiser, after the step)
/// the side's scale:             S ← S·(1 + α·η̄)
/// representations in training:  p = Σ_f x_f·S·E_f,  b = Σ_f x_f·S·β_f
/// end of the epoch:             θ ← θ / S for every parameter of the side, then S ← 1
/// ```
///
/// The division also happens mid-epoch once a scale passes `maxScale`, so S never overflows.
/// With more than one Hogwild worker, each worker multiplies its examples' factors together
/// and folds them into the shared scales, under a lock, every `workerBatch` examples (and at
/// the end of each stretch it trains): written after every example, the scales' cache line
/// would move between the cores on every example. Reads then lag by at most that many
/// examples' decay per worker, well below the Hogwild races themselves. One thread folds
/// every example without a lock, exactly as LightFM. Between epochs S = 1, so the stored
/// arrays are the model. With α = 0 the scale stays exactly 1 and nothing here runs.
///
/// This follows LightFM's `_lightfm_fast` step for step, so a tuned `itemAlpha`/`userAlpha`
/// means the same here. LightFM multiplies by S in training representations although the
/// epoch's end divides by it; we keep that, since it is what the tuned values were tuned
/// against. One difference: η̄ averages the step sizes of the parameters the example updated,
/// and the pairwise losses do not update the user bias (see `TrainingKernel.pairwiseUpdate`),
/// so its step is not in the mean; LightFM counts it.
enum LazyL2 {
  /// The scale beyond which a side is divided out mid-epoch (LightFM's `MAX_REG_SCALE`).
  static let maxScale: Double = 1e6

  /// Examples a worker of several folds into the shared scales at once.
  static let workerBatch = 32

  /// (1 + α·η̄) for an example whose `updates` parameter updates used step sizes summing to
  /// `rateSum`, with η̄ = rateSum / updates (1 when nothing was updated).
  @inline(__always)
  static func factor(alpha: Float, rateSum: Float, updates: Int) -> Double {
    updates > 0 ? 1 + Double(alpha) * (Double(rateSum) / Double(updates)) : 1
  }

  /// Multiplies the sides' scales by `userFactor` and `itemFactor`, and divides the sides out
  /// when a scale passes `maxScale`.
  ///
  /// With `concurrent` (several workers), the whole read-multiply-write happens under `lock`,
  /// the lock `divideOut` runs under: a product that landed after another worker's division
  /// (on a scale it just reset to 1) would have the side divided by the old scale twice, and
  /// two workers multiplying at once would lose one factor. The workers fold only every
  /// `workerBatch` examples, so the lock is rarely contended. One worker takes no lock.
  /// - Complexity: O(1), or O(parameters) on the rare call that divides.
  @inline(__always)
  static func advance(
    users: ParameterSide, items: ParameterSide, userFactor: Double, itemFactor: Double, d: Int,
    lock: NSLock, concurrent: Bool
  ) {
    if concurrent {
      lock.lock()
      defer { lock.unlock() }
      multiply(users: users, items: items, userFactor, itemFactor, d: d)
    } else {
      multiply(users: users, items: items, userFactor, itemFactor, d: d)
    }
  }

  /// The step of `advance`, for a caller that holds the lock or trains alone.
  @inline(__always)
  private static func multiply(
    users: ParameterSide, items: ParameterSide, _ userFactor: Double, _ itemFactor: Double,
    d: Int
  ) {
    users.scale.base.pointee *= userFactor
    items.scale.base.pointee *= itemFactor
    if users.scale.base.pointee > maxScale || items.scale.base.pointee > maxScale {
      divideOut(users, d: d)
      divideOut(items, d: d)
    }
  }

  /// θ ← θ / S for every embedding and bias of `side`, then S ← 1.
  ///
  /// - Complexity: O(features·d); nothing when S = 1.
  static func divideOut(_ side: ParameterSide, d: Int) {
    let s = side.scale.base.pointee
    guard s != 1 else { return }
    for n in 0..<(side.featureCount * d) {
      side.embeddings.base[n] = Float(Double(side.embeddings.base[n]) / s)
    }
    for n in 0..<side.featureCount {
      side.biases.base[n] = Float(Double(side.biases.base[n]) / s)
    }
    side.scale.base.pointee = 1
  }
}
