import Foundation

/// Where a `fit` or `fitPartial` call is, reported after every epoch.
public struct TrainingProgress: Sendable, Equatable, CustomStringConvertible {
  /// The epoch just finished, 1-based.
  public let epoch: Int
  /// The number of epochs of this call.
  public let epochs: Int
  /// Seconds since the call started training (data preparation and evaluations included).
  public let elapsed: Double
  /// Seconds of the last epoch's training (its evaluation excluded).
  public let epochSeconds: Double
  /// The estimated seconds left: the mean epoch time times the epochs to go.
  public let estimatedRemaining: Double
  /// The mean loss over the epoch's examples, as the model's loss defines it, or nil when the
  /// call does not measure it (`reportsLoss: false`, or nothing reads it) or has no examples.
  ///
  /// Each example's loss is taken from the parameters as the example finds them, just before
  /// its own update (the running training loss, not the loss of the end-of-epoch model):
  ///
  /// ```
  /// logistic   w·(−y*·ln σ(s) − (1 − y*)·ln(1 − σ(s)))   over every interaction
  /// BPR        −w·ln σ(s_ui − s_uj)                       over the positives, j drawn
  /// WARP       L·max(0, 1 − s_ui + s_uj)                  over the positives
  /// WARP-kOS   L·max(0, 1 − s_ui + s_uj)                  over every interaction's user
  /// ```
  ///
  /// w is the sample weight (1 without weights; entries of weight 0 are not examples), L the
  /// WARP update's rank weight min(10, w·ln(max(1, ⌊(N − 1)/n⌋))) after n draws, i for k-OS
  /// the k-th highest scored sampled positive. An example that makes no update adds 0 and still
  /// counts: WARP and k-OS without a violation in `maxSampled` draws (no sampled negative is
  /// within the margin, so every sampled hinge is 0), BPR without a negative to draw. The L2
  /// penalty is not included.
  public let loss: Double?
  /// The validation metrics, on the epochs that were evaluated (`TrainingValidation`).
  public let validation: ValidationScores?
  /// The evaluated epoch so far with the best monitored metric, with validation.
  public let bestEpoch: Int?

  /// One line for a terminal, e.g.
  /// `epoch 3/10  0.041 s  elapsed 0.13 s  left 0.29 s  loss 0.8123  precision@10 0.1021 …`.
  public var description: String {
    var line = "epoch \(epoch)/\(epochs)  \(format(epochSeconds)) s  elapsed \(format(elapsed)) s"
      + "  left \(format(estimatedRemaining)) s"
    if let loss { line += "  loss \(fixed(loss))" }
    if let v = validation {
      for metric in ValidationMetric.allCases {
        line += "  \(metric.label(k: v.k)) \(fixed(v[metric]))"
      }
    }
    return line
  }

  private func format(_ x: Double) -> String {
    let scaled = (x * 1000).rounded() / 1000
    return "\(scaled)"
  }

  /// Four decimals, e.g. 0.0812.
  private func fixed(_ x: Double) -> String { String(format: "%.4f", x) }
}
