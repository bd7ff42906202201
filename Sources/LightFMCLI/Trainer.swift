import Foundation
import LightFMKit

/// Trains with one progress line per epoch on standard error.
enum Trainer {
  static func train(
    _ model: inout LightFM, data: TrainingData, epochs: Int, threads: Int, label: String
  ) throws {
    try model.fit(
      data.interactions, userFeatures: data.userFeatures, itemFeatures: data.itemFeatures,
      sampleWeight: data.weights, epochs: epochs, numThreads: threads,
      progress: { Console.note("\(label): \($0.description)") })
  }
}
