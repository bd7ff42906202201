import Foundation
import LightFMKit

/// Runs training one epoch at a time so that progress reaches standard error as it happens.
enum Trainer {
  static func train(
    _ model: inout LightFM, data: TrainingData, epochs: Int, threads: Int, label: String
  ) throws {
    for epoch in 1...epochs {
      let started = Date()
      if epoch == 1 {
        try model.fit(
          data.interactions, userFeatures: data.userFeatures, itemFeatures: data.itemFeatures,
          sampleWeight: data.weights, epochs: 1, numThreads: threads)
      } else {
        try model.fitPartial(
          data.interactions, userFeatures: data.userFeatures, itemFeatures: data.itemFeatures,
          sampleWeight: data.weights, epochs: 1, numThreads: threads)
      }
      let seconds = Date().timeIntervalSince(started)
      Console.note("\(label): epoch \(epoch)/\(epochs) in \(String(format: "%.3f", seconds)) s")
    }
  }
}
