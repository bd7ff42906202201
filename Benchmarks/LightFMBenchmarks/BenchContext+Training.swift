import LightFMKit
import _LightFMTestSupport

extension BenchContext {
  /// `training`: seconds per epoch per loss at 1 and 2 Hogwild threads.
  ///
  /// - MovieLens 100K (ratings ≥ 4 of ua.base), d = 30, lr 0.05: each repetition is a fresh
  ///   `fit` of 10 epochs (2 with `--quick`), reported per epoch.
  /// - Synthetic train set, d = `components`: the warm-up is `fit` for 1 epoch, then each
  ///   repetition is `fitPartial` for 1 epoch, so the timings follow a model that is learning.
  ///   Above 2M interactions, all losses on a ~1M set of the same shape, WARP on the full set
  ///   (2 threads).
  ///
  /// Rates: positives/s (stored train interactions per second); the t=2 rows add their speed
  /// relative to the t=1 row of the same case and run (t=1 median / t=2 median).
  ///
  /// Every case is timed twice, in alternating repetitions: without the per-epoch loss (no
  /// progress callback: the rows named as before) and with it (a callback that reads it: the
  /// "loss on" rows, whose "× loss off" is their median over the other's).
  func runTraining() throws {
    let threadCounts = [1, 2]
    let epochs = quick ? 2 : 10
    if let ml = try workloads.movieLens(harness) {
      for loss in LightFM.Loss.allCases {
        var oneThread: Double?
        for t in threadCounts {
          var model = LightFM(noComponents: 30, loss: loss, learningRate: 0.05, randomState: 7)
          var measured = model
          let name = "MovieLens \(loss.rawValue) d=30 t=\(t) per epoch"
          let (m, _) = try harness.measureAlternating(
            "training", (name, name + " loss on"),
            rates: [("positives/s", Double(ml.train.nnz))],
            divisor: Double(epochs), note: "fit of \(epochs) epochs", ratio: "× loss off"
          ) {
            try model.fit(ml.train, epochs: epochs, numThreads: t)
          } _: {
            try measured.fit(ml.train, epochs: epochs, numThreads: t) { _ in .continue }
          }
          speedUp(m, oneThread: &oneThread, threads: t, name: name)
        }
      }
    }
    let set = try workloads.synthetic(harness)
    let c = set.data.configuration
    // Above 2M interactions, every loss trains on a ~1M-interaction set of the same users ×
    // items (LightFM's reference point, ARCHITECTURE.md §3.10) and WARP alone on the full set on 2
    // threads: six epochs per case of 8M positives for every loss would take most of an hour.
    if c.interactions > 2_000_000 {
      var smaller = c
      smaller.interactions = 1_250_000
      Report.progress("generating synthetic \(c.users) × \(c.items), ~\(smaller.interactions) ...")
      let small = Synthetic.generate(smaller)
      harness.fact(
        "data",
        "training set: synthetic \(c.users) users × \(c.items) items, ~1.25M interactions: "
          + "\(small.train.nnz) train")
      try trainSynthetic(
        small.train, label: "1M", losses: LightFM.Loss.allCases, threadCounts: [1, 2])
      try trainSynthetic(set.data.train, label: "full", losses: [.warp], threadCounts: [2])
    } else {
      try trainSynthetic(
        set.data.train, label: "full", losses: LightFM.Loss.allCases, threadCounts: [1, 2])
    }
  }

  private func trainSynthetic(
    _ train: COOMatrix, label: String, losses: [LightFM.Loss], threadCounts: [Int]
  ) throws {
    let shape = "\(train.shape.rows)×\(train.shape.columns)"
    for loss in losses {
      var oneThread: Double?
      for t in threadCounts {
        var model = LightFM(noComponents: components, loss: loss, randomState: 7)
        var measured = model
        let name = "synthetic \(shape) \(label) (\(train.nnz) train) \(loss.rawValue) "
          + "d=\(components) t=\(t) per epoch"
        let (m, _) = try harness.measureAlternating(
          "training", (name, name + " loss on"), rates: [("positives/s", Double(train.nnz))],
          note: "fitPartial, 1 epoch per repetition", ratio: "× loss off"
        ) {
          if model.isFitted {
            try model.fitPartial(train, epochs: 1, numThreads: t)
          } else {
            try model.fit(train, epochs: 1, numThreads: t)
          }
        } _: {
          if measured.isFitted {
            try measured.fitPartial(train, epochs: 1, numThreads: t) { _ in .continue }
          } else {
            try measured.fit(train, epochs: 1, numThreads: t) { _ in .continue }
          }
        }
        speedUp(m, oneThread: &oneThread, threads: t, name: name)
      }
    }
  }

  /// Remembers the t=1 median and adds "× t=1" (t=1 median / this median) to a t=2 row.
  private func speedUp(_ m: Measurement, oneThread: inout Double?, threads: Int, name: String) {
    if threads == 1 {
      oneThread = m.median
    } else if let one = oneThread {
      harness.addRate("× t=1", one / m.median, to: name, suite: "training")
    }
  }
}
