import Foundation
import LightFMKit

/// The one training step of the CLI (`fit`, `fit --resume` and `demo`): the sample-weight rule
/// applied the same way whether the model is new or resumed, and a progress line per epoch (or
/// every `reportEvery` epochs) on standard error.
enum ConsoleTraining {
  /// Trains `model` on `data`; sample weights are passed unless every one is 1.
  ///
  /// - Parameter resuming: continue from the model's learned state (`fitPartial`) instead of
  ///   starting afresh (`fit`).
  /// - Throws: `LightFMError` from training, or when `.warpKOS` (which takes no sample weights,
  ///   as in LightFM) meets weights other than 1.
  static func train(
    _ model: inout LightFM, data: TrainingData, epochs: Int, threads: Int, label: String,
    reportEvery: Int = 1, resuming: Bool = false
  ) throws {
    let weighted = data.weights.values.contains { $0 != 1 }
    if weighted && model.loss == .warpKOS {
      throw LightFMError.invalidParameter(
        "loss", "warp-kos",
        expected: "a loss that takes sample weights (warp-kos takes none): drop the weight "
          + "column, pass --min-rating to read it as ratings, or choose another loss")
    }
    let progress = { (progress: TrainingProgress) in
      if progress.epoch % reportEvery == 0 || progress.epoch == progress.epochs {
        Console.note("\(label): \(progress.description)")
      }
    }
    let sampleWeight = weighted ? data.weights : nil
    if resuming {
      try model.fitPartial(
        data.interactions, userFeatures: data.userFeatures, itemFeatures: data.itemFeatures,
        sampleWeight: sampleWeight, epochs: epochs, numThreads: threads, progress: progress)
    } else {
      try model.fit(
        data.interactions, userFeatures: data.userFeatures, itemFeatures: data.itemFeatures,
        sampleWeight: sampleWeight, epochs: epochs, numThreads: threads, progress: progress)
    }
  }
}
