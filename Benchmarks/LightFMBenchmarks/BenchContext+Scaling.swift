import Foundation
import LightFMKit
import _LightFMTestSupport

extension BenchContext {
  /// `scaling`: how `recommend`, ranking and training cost grows with the work.
  ///
  /// - `recommend` top-10 with 20 excluded items per user, on a randomly initialised model (a
  ///   `fit` of 0 epochs: scoring cost does not depend on the values), for users ∈ {25K, 50K,
  ///   100K, 200K} at 50K items, items ∈ {12.5K, 25K, 50K, 100K} at 100K users, and d ∈ {16, 32,
  ///   64, 128} at 100K × 50K (`--quick`: a tenth of the users and items). Each d is timed
  ///   interleaved with a bare blocked sgemm of the same shapes; the 100K × 50K d = `components`
  ///   point also with `predictRank` and `Evaluation.metrics` for the same users.
  /// - Training: BPR (one negative per positive, so the work per positive does not change as
  ///   the model learns, as WARP's does), d = `components`, 1 epoch, for interactions ∈ {1M, 2M,
  ///   4M, 8M} at 100K users × 50K items (`--quick`: {62.5K, …, 500K} at 10K × 5K).
  ///
  /// Added rates: ns/pair, ps/FLOP (2 · users · items · (d + 1) FLOP per run), and for the
  /// engines the fraction of the bare sgemm's speed from the same alternation.
  func runScaling() throws {
    let scale = quick ? 10 : 1
    let baseUsers = 100_000 / scale
    let baseItems = 50_000 / scale
    for users in [25_000, 50_000, 100_000, 200_000].map({ $0 / scale }) {
      try scaleRecommend(users: users, items: baseItems, d: components)
    }
    for items in [12_500, 25_000, 50_000, 100_000].map({ $0 / scale }) where items != baseItems {
      try scaleRecommend(users: baseUsers, items: items, d: components)
    }
    for d in [16, 32, 64, 128] {
      try scaleRecommend(
        users: baseUsers, items: baseItems, d: d, withSGEMM: true,
        withRanking: d == components)
    }
    let base = quick ? 62_500 : 1_000_000
    for factor in [1, 2, 4, 8] {
      try scaleTraining(users: baseUsers, items: baseItems, interactions: base * factor)
    }
  }

  /// A model of `users × items` with `d` components (random initial values) and an exclusion
  /// matrix of 20 random items per user.
  private func scalingModel(users: Int, items: Int, d: Int) throws -> (LightFM, CSRMatrix) {
    var rng = SplitMix64(seed: UInt64(users * 31 + items * 7 + d))
    let perUser = min(20, items)
    var rows: [Int32] = []
    var columns: [Int32] = []
    rows.reserveCapacity(users * perUser)
    columns.reserveCapacity(users * perUser)
    for u in 0..<users {
      for _ in 0..<perUser {
        rows.append(Int32(u))
        columns.append(Int32(rng.next() % UInt64(items)))
      }
    }
    let coo = try COOMatrix(
      rows: users, columns: items, rowIndices: rows, columnIndices: columns,
      values: [Float](repeating: 1, count: rows.count))
    var model = LightFM(noComponents: d, loss: .warp, randomState: 7)
    try model.fit(coo, epochs: 0)
    return (model, try CSRMatrix(coo))
  }

  private func scaleRecommend(
    users: Int, items: Int, d: Int, withSGEMM: Bool = false, withRanking: Bool = false
  ) throws {
    let (model, excluded) = try scalingModel(users: users, items: items, d: d)
    let pairs = Double(users) * Double(items)
    let flops = 2 * pairs * Double(d + 1)
    let rates = [("pairs/s", pairs), ("GFLOP/s", flops / 1e9)]
    let shape = "\(users)×\(items) d=\(d) t=\(threads)"
    let t = threads
    var cases: [(name: String, rates: [(unit: String, perRun: Double)], body: () throws -> Void)]
    cases = [
      ("recommend top-10 \(shape)", rates, {
        _ = try model.recommend(count: 10, excluding: excluded, numThreads: t)
      })
    ]
    if withSGEMM {
      let k = d + 1
      let queries = randomFloats(users * k, scale: 0.1, seed: 11)
      let itemRows = randomFloats(items * k, scale: 0.1, seed: 12)
      cases.append(
        ("bare sgemm \(shape)", rates, {
          KernelProbes.blockedSGEMM(
            queries: queries, queryCount: users, items: itemRows, itemCount: items, k: k,
            threads: t)
        }))
    }
    if withRanking {
      // The same users: every user has test items (the exclusion matrix itself is the test
      // set here; a training set of its own would only add a mask).
      cases.append(
        ("predictRank \(shape)", rates, {
          _ = try model.predictRank(excluded, numThreads: t)
        }))
      cases.append(
        ("Evaluation.metrics (all) \(shape)", rates, {
          _ = try Evaluation.metrics(model, testInteractions: excluded, numThreads: t)
        }))
    }
    let measured = try harness.measureInterleaved(
      "scaling", cases, note: "20 excluded items per user")
    for m in measured {
      harness.addRate("ns/pair", m.median / pairs * 1e9, to: m.name, suite: "scaling")
      harness.addRate("ps/FLOP", m.median / flops * 1e12, to: m.name, suite: "scaling")
    }
    if withSGEMM, measured.count >= 2 {
      harness.addRate(
        "of sgemm", measured[1].median / measured[0].median, to: measured[0].name,
        suite: "scaling")
    }
    if withRanking, measured.count >= 4 {
      for m in measured[2...] {
        harness.addRate(
          "× recommend", m.median / measured[0].median, to: m.name, suite: "scaling")
      }
    }
  }

  private func scaleTraining(users: Int, items: Int, interactions: Int) throws {
    var c = Synthetic.Configuration(users: users, items: items, interactions: interactions)
    c.seed = 42
    let data = Synthetic.generate(c)
    let train = data.train
    var model = LightFM(noComponents: components, loss: .bpr, randomState: 7)
    let name = "training BPR \(users)×\(items) \(train.nnz) train d=\(components) t=\(threads)"
    let m = try harness.measure(
      "scaling", name, rates: [("positives/s", Double(train.nnz))],
      note: "synthetic ~\(interactions) interactions; fitPartial, 1 epoch per repetition"
    ) {
      if model.isFitted {
        try model.fitPartial(train, epochs: 1, numThreads: threads)
      } else {
        try model.fit(train, epochs: 1, numThreads: threads)
      }
    }
    harness.addRate("ns/positive", m.median / Double(train.nnz) * 1e9, to: name, suite: "scaling")
  }
}
