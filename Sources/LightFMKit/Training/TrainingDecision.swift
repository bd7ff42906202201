/// What a `fit` or `fitPartial` progress callback asks for after an epoch.
///
/// Training never prints: a caller that wants a line per epoch prints `progress.description`
/// from its callback, and returns `.stop` to end training early (for example when a held-out
/// metric stops improving, or a deadline has passed).
public enum TrainingDecision: Sendable, Equatable {
  /// Go on to the next epoch.
  case `continue`
  /// Stop after this epoch and keep the parameters as trained so far.
  case stop
}
