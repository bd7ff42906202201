import LightFMKit

extension BenchContext {
  /// `training`: seconds per epoch per loss at 1 and 2 Hogwild threads.
  ///
  /// - MovieLens 100K (ratings ≥ 4 of ua.base), d = 30, lr 0.05: each repetition is a fresh
  ///   `fit` of 10 epochs (2 with `--quick`), reported per epoch.
  /// - Synthetic train set, d = `components`: the warm-up is `fit` for 1 epoch, then each
  ///   repetition is `fitPartial` for 1 epoch, so the timings follow a model that is learning.
  ///
  /// Rates: positives/s (stored train interactions per second).
  func runTraining() throws {
    let threadCounts = [1, 2]
    let epochs = quick ? 2 : 10
    if let ml = try workloads.movieLens(harness) {
      for loss in Loss.allCases {
        for t in threadCounts {
          var model = LightFM(noComponents: 30, loss: loss, learningRate: 0.05, randomState: 7)
          try harness.measure(
            "training", "MovieLens \(loss.rawValue) d=30 t=\(t) per epoch",
            rates: [("positives/s", Double(ml.train.nnz))], divisor: Double(epochs),
            note: "fit of \(epochs) epochs"
          ) {
            try model.fit(ml.train, epochs: epochs, numThreads: t)
          }
        }
      }
    }
    let set = try workloads.synthetic(harness)
    let c = set.data.configuration
    for loss in Loss.allCases {
      for t in threadCounts {
        var model = LightFM(noComponents: components, loss: loss, randomState: 7)
        try harness.measure(
          "training", "synthetic \(c.users)×\(c.items) \(loss.rawValue) d=\(components) t=\(t) per epoch",
          rates: [("positives/s", Double(set.data.train.nnz))],
          note: "fitPartial, 1 epoch per repetition"
        ) {
          if model.isFitted {
            try model.fitPartial(set.data.train, epochs: 1, numThreads: t)
          } else {
            try model.fit(set.data.train, epochs: 1, numThreads: t)
          }
        }
      }
    }
  }
}
