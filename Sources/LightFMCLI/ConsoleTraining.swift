import Foundation
import LightFMKit

/// The one training step of the CLI (`fit`, `fit --resume` and `demo`): the sample-weight rule
/// applied the same way whether the model is new or resumed; progress on standard error while it
/// trains (`ProgressLine`, with the last epoch's mean loss); a line for every epoch validated
/// (its loss and validation metrics) and for the last epoch.
enum ConsoleTraining {
  /// Trains `model` on `data`; sample weights are passed unless every one is 1.
  ///
  /// - Parameters:
  ///   - resuming: continue from the model's learned state (`fitPartial`) instead of starting
  ///     afresh (`fit`).
  ///   - validation: evaluated while training, with early stopping (`TrainingValidation`).
  ///   - history: receives every epoch's report as it is made.
  /// - Returns: what the call did, epoch by epoch.
  /// - Throws: `LightFMError` from training, or when `.warpKOS` (which takes no sample weights,
  ///   as in LightFM) meets weights other than 1.
  @discardableResult
  static func train(
    _ model: inout LightFM, data: TrainingData, epochs: Int, threads: Int, label: String,
    resuming: Bool = false, validation: TrainingValidation? = nil, history: HistoryFile? = nil
  ) throws -> TrainingHistory {
    let weighted = data.weights.values.contains { $0 != 1 }
    if weighted && model.loss == .warpKOS {
      throw LightFMError.invalidParameter(
        "loss", "warp-kos",
        expected: "a loss that takes sample weights (warp-kos takes none): drop the weight "
          + "column, pass --min-rating to read it as ratings, or choose another loss")
    }
    var written: Error?
    let line = ProgressLine(label, total: epochs, unit: .count("epochs"))
    defer { line.finish() }
    var last: TrainingProgress?
    var shown = 0
    let progress = { (progress: TrainingProgress) in
      last = progress
      if progress.validation != nil {
        line.finish()
        Console.note("\(label): \(progress.description)")
        shown = progress.epoch
      }
      line.update(
        progress.epoch, detail: progress.loss.map { "  loss " + String(format: "%.4f", $0) } ?? "")
      if let history, written == nil {
        do { try history.append(progress) } catch { written = error }
      }
      return TrainingDecision.continue
    }
    let sampleWeight = weighted ? data.weights : nil
    let result: TrainingHistory
    if resuming {
      result = try model.fitPartial(
        data.interactions, userFeatures: data.userFeatures, itemFeatures: data.itemFeatures,
        sampleWeight: sampleWeight, epochs: epochs, numThreads: threads,
        validation: validation, progress: progress)
    } else {
      result = try model.fit(
        data.interactions, userFeatures: data.userFeatures, itemFeatures: data.itemFeatures,
        sampleWeight: sampleWeight, epochs: epochs, numThreads: threads,
        validation: validation, progress: progress)
    }
    line.finish()
    if let last, last.epoch != shown { Console.note("\(label): \(last.description)") }
    if let written { throw written }
    if let validation { summarise(result, validation, label: label) }
    return result
  }

  /// The validation outcome in one line: the best epoch, and whether training stopped early
  /// and which epoch the model keeps.
  private static func summarise(
    _ h: TrainingHistory, _ v: TrainingValidation, label: String
  ) {
    guard let best = h.bestEpoch, let scores = h.epochs[best - 1].validation else { return }
    let metric = v.monitor.label(k: v.k)
    let value = String(format: "%.4f", scores[v.monitor])
    if h.stoppedEarly {
      Console.note(
        "\(label): stopped after epoch \(h.epochs.count): \(metric) did not improve in "
          + "\(v.patience ?? 0) evaluation(s); keeping epoch \(best) (\(metric) \(value))")
    } else if h.keptEpoch == best {
      Console.note("\(label): best \(metric) \(value) at epoch \(best), kept")
    } else {
      Console.note(
        "\(label): best \(metric) \(value) at epoch \(best); the model keeps the last epoch "
          + "(\(h.keptEpoch)); --patience keeps the best")
    }
  }
}
