import Foundation
import LightFMKit

/// Trains with a progress line per epoch (or every `reportEvery` epochs) on standard error.
enum Trainer {
  /// Fits `model` on `data`; sample weights are passed unless every one is 1.
  ///
  /// - Throws: `LightFMError` from training, or when `.warpKOS` (which takes no sample weights,
  ///   as in LightFM) meets weights other than 1.
  static func train(
    _ model: inout LightFM, data: TrainingData, epochs: Int, threads: Int, label: String,
    reportEvery: Int = 1
  ) throws {
    let weighted = data.weights.values.contains { $0 != 1 }
    if weighted && model.loss == .warpKOS {
      throw LightFMError.invalidParameter(
        "loss", "warp-kos",
        expected: "a loss that takes sample weights (warp-kos takes none): drop the weight "
          + "column, pass --min-rating to read it as ratings, or choose another loss")
    }
    try model.fit(
      data.interactions, userFeatures: data.userFeatures, itemFeatures: data.itemFeatures,
      sampleWeight: weighted ? data.weights : nil, epochs: epochs, numThreads: threads,
      progress: { progress in
        if progress.epoch % reportEvery == 0 || progress.epoch == progress.epochs {
          Console.note("\(label): \(progress.description)")
        }
      })
  }
}
