import LightFMKit

extension BenchContext {
  /// `scoring`: whole-catalog top-10 for every synthetic user, training items excluded, through
  /// the BLAS engine and the scalar engine, next to a bare blocked `cblas_sgemm` over the same
  /// shapes (queries `[p_u | 1]`, items `[q_i | b_i]`, so k = d + 1) measured in the same run.
  ///
  /// Rates: scored pairs/s (users × items per run), GFLOP/s (2 · users · items · (d + 1)), and
  /// for the engines the fraction of the bare sgemm's speed (sgemm time / engine time).
  func runScoring() throws {
    let set = try workloads.synthetic(harness)
    let users = set.data.configuration.users
    let items = set.data.configuration.items
    let d = components
    let k = d + 1
    let pairs = Double(users) * Double(items)
    let flops = 2 * pairs * Double(k)
    let rates = [("pairs/s", pairs), ("GFLOP/s", flops / 1e9)]
    let shape = "\(users)×\(items) d=\(d)"

    let queries = randomFloats(users * k, scale: 0.1, seed: 11)
    let itemRows = randomFloats(items * k, scale: 0.1, seed: 12)
    let sgemm = try harness.measure(
      "scoring", "bare sgemm \(shape) t=\(threads)", rates: rates,
      note: "\(KernelProbes.scoringTile.users)×\(KernelProbes.scoringTile.items) tiles as the "
        + "engine, 1-thread sgemm per worker, scores discarded"
    ) {
      KernelProbes.blockedSGEMM(
        queries: queries, queryCount: users, items: itemRows, itemCount: items, k: k,
        threads: threads)
    }
    try runEngineScoring(set: set, shape: shape, rates: rates, sgemmSeconds: sgemm.median)
  }
}

extension BenchContext {
  /// The library's `recommend` on the trained synthetic model, both engines. Above 20,000 users
  /// the scalar engine scores every 10th user only (its rates are per pair, so they compare;
  /// the case name says how many users).
  func runEngineScoring(
    set: Workloads.SyntheticSet, shape: String, rates: [(String, Double)], sgemmSeconds: Double
  ) throws {
    let model = try trainedSyntheticModel()
    let users = set.data.configuration.users
    let items = Double(set.data.configuration.items)
    let k = Double(components + 1)
    let blasName = "recommend top-10 blas \(shape) t=\(threads)"
    var blas: Recommendations?
    let b = try harness.measure(
      "scoring", blasName, rates: rates, note: "training items excluded"
    ) {
      blas = try model.recommend(count: 10, excluding: set.trainCSR, numThreads: threads)
    }
    harness.addRate("of sgemm", sgemmSeconds / b.median, to: blasName, suite: "scoring")

    let subset = users > 20_000 ? Array(stride(from: 0, to: users, by: 10)) : Array(0..<users)
    let pairs = Double(subset.count) * items
    let scalarName =
      "recommend top-10 scalar \(shape) t=\(threads)"
      + (subset.count < users ? " (\(subset.count) users)" : "")
    var scalar: Recommendations?
    let s = try harness.measure(
      "scoring", scalarName, rates: [("pairs/s", pairs), ("GFLOP/s", 2 * pairs * k / 1e9)],
      note: "training items excluded"
    ) {
      scalar = try model.recommend(
        users: subset, count: 10, excluding: set.trainCSR, numThreads: threads, engine: .scalar)
    }
    // Fraction of the sgemm's pair rate (the subset scores fewer pairs).
    let sgemmRate = Double(users) * items / sgemmSeconds
    harness.addRate("of sgemm", pairs / s.median / sgemmRate, to: scalarName, suite: "scoring")

    // The engines must agree; a benchmark that compares different answers measures nothing.
    guard let blas, let scalar else { return }
    var sameItems = 0
    var maxScoreGap: Float = 0
    for (n, u) in subset.enumerated() {
      let x = blas[u]
      let y = scalar[n]
      if x.map(\.index) == y.map(\.index) { sameItems += 1 }
      for (p, q) in zip(x, y) { maxScoreGap = max(maxScoreGap, abs(p.score - q.score)) }
    }
    harness.fact(
      "scoring",
      "BLAS vs scalar top-10: identical item lists for \(sameItems) of \(subset.count) users, "
        + "largest score difference \(maxScoreGap)")
  }
}
