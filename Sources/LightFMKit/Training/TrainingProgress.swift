/// Where a `fit` or `fitPartial` call is, reported after every epoch.
public struct TrainingProgress: Sendable, Equatable, CustomStringConvertible {
  /// The epoch just finished, 1-based.
  public let epoch: Int
  /// The number of epochs of this call.
  public let epochs: Int
  /// Seconds since the call started training (data preparation included).
  public let elapsed: Double
  /// Seconds of the last epoch.
  public let epochSeconds: Double
  /// The estimated seconds left: the mean epoch time times the epochs to go.
  public let estimatedRemaining: Double

  /// One line for a terminal, e.g. `epoch 3/10  0.041 s  elapsed 0.13 s  left 0.29 s`.
  public var description: String {
    "epoch \(epoch)/\(epochs)  \(format(epochSeconds)) s  elapsed \(format(elapsed)) s"
      + "  left \(format(estimatedRemaining)) s"
  }

  private func format(_ x: Double) -> String {
    let scaled = (x * 1000).rounded() / 1000
    return "\(scaled)"
  }
}
