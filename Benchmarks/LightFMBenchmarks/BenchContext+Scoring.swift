@_spi(Benchmarks) import LightFMKit

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
      note: "256×4096 tiles, 1-thread sgemm per worker, scores discarded"
    ) {
      KernelProbes.blockedSGEMM(
        queries: queries, queryCount: users, items: itemRows, itemCount: items, k: k,
        threads: threads)
    }
    try runEngineScoring(set: set, shape: shape, rates: rates, sgemmSeconds: sgemm.median)
  }
}

extension BenchContext {
  /// The library's `recommend` on the trained synthetic model, both engines.
  func runEngineScoring(
    set: Workloads.SyntheticSet, shape: String, rates: [(String, Double)], sgemmSeconds: Double
  ) throws {
    let model = try trainedSyntheticModel()
    var lists: [ScoringEngine: Recommendations] = [:]
    for engine in [ScoringEngine.blas, .scalar] {
      let name = "recommend top-10 \(engine.rawValue) \(shape) t=\(threads)"
      var result: Recommendations?
      let m = try harness.measure(
        "scoring", name, rates: rates, note: "training items excluded"
      ) {
        result = try model.recommend(k: 10, excluding: set.trainCSR, numThreads: threads, engine: engine)
      }
      harness.addRate("of sgemm", sgemmSeconds / m.median, to: name, suite: "scoring")
      lists[engine] = result
    }
    // The engines must agree; a benchmark that compares different answers measures nothing.
    if let blas = lists[.blas], let scalar = lists[.scalar] {
      var sameItems = 0
      var maxScoreGap: Float = 0
      for u in 0..<blas.count {
        let a = blas[u]
        let b = scalar[u]
        if a.map(\.item) == b.map(\.item) { sameItems += 1 }
        for (x, y) in zip(a, b) { maxScoreGap = max(maxScoreGap, abs(x.score - y.score)) }
      }
      harness.fact(
        "scoring",
        "BLAS vs scalar top-10: identical item lists for \(sameItems) of \(blas.count) users, "
          + "largest score difference \(maxScoreGap)")
    }
  }
}
