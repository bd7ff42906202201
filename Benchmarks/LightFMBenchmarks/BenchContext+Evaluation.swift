import Foundation
import LightFMKit

extension BenchContext {
  /// `evaluation`: every metric on MovieLens 100K and on the synthetic set, training items
  /// excluded, with the metric values as facts.
  ///
  /// - MovieLens (LightFM's protocol model, WARP d = 30): each metric function from the model,
  ///   then all six from one `predictRank`, through both engines.
  /// - Synthetic (the shared WARP model): `predictRank` through both engines, all metrics from
  ///   one ranking, and `aucScore` from the model.
  func runEvaluation() throws {
    if let ml = try workloads.movieLens(harness) {
      let model = try trainedMovieLensModel(ml)
      try evaluate(
        label: "MovieLens", model: model, train: ml.trainCSR, test: ml.testCSR,
        eachMetric: true)
    }
    let set = try workloads.synthetic(harness)
    let model = try trainedSyntheticModel()
    let c = set.data.configuration
    try evaluate(
      label: "synthetic \(c.users)×\(c.items)", model: model, train: set.trainCSR,
      test: set.testCSR, eachMetric: false)
    try rankingAgainstRecommend(
      label: "synthetic \(c.users)×\(c.items)", model: model, train: set.trainCSR,
      test: set.testCSR)
  }

  /// Ranking against listing, in one alternation: `recommend` top-10 for the users with test
  /// items (training items excluded), `predictRank` of their test items, and every metric
  /// (`Evaluation.metrics`, which also lists the top 10 for catalog coverage). Both are one
  /// GEMM pass over the same tiles, so the ratio is the cost of counting against selecting.
  private func rankingAgainstRecommend(
    label: String, model: LightFM, train: CSRMatrix, test: CSRMatrix
  ) throws {
    let t = threads
    let testUsers = (0..<test.shape.rows).filter { test.rowCount($0) > 0 }
    let pairs = Double(testUsers.count) * Double(test.shape.columns)
    let rates = [("pairs/s", pairs)]
    let shape = "\(label), \(testUsers.count) test users, \(test.nnz) test items t=\(t)"
    let measured = try harness.measureInterleaved(
      "evaluation",
      [
        ("recommend top-10 \(shape)", rates, {
          _ = try model.recommend(
            users: testUsers, count: 10, excluding: train, numThreads: t)
        }),
        ("predictRank \(shape)", rates, {
          _ = try model.predictRank(test, trainInteractions: train, numThreads: t)
        }),
        ("Evaluation.metrics (all) \(shape)", rates, {
          _ = try Evaluation.metrics(
            model, testInteractions: test, trainInteractions: train, k: 10, numThreads: t)
        }),
      ], note: "training items excluded")
    for m in measured.dropFirst() {
      harness.addRate(
        "× recommend", m.median / measured[0].median, to: m.name, suite: "evaluation")
    }
  }

  private func evaluate(
    label: String, model: LightFM, train: CSRMatrix, test: CSRMatrix, eachMetric: Bool
  ) throws {
    let t = threads
    let testUsers = (0..<test.shape.rows).filter { test.rowCount($0) > 0 }.count
    let pairs = Double(testUsers) * Double(test.shape.columns)
    if eachMetric {
      harness.fact("evaluation", "\(label): \(testUsers) users with test items")
    }
    func mean(_ x: [Float]) -> Double { x.isEmpty ? 0 : x.reduce(0) { $0 + Double($1) } / Double(x.count) }
    if eachMetric {
      let metrics: [(String, () throws -> [Float])] = [
        ("precision@10", {
          try Evaluation.precisionAtK(model, testInteractions: test, trainInteractions: train, k: 10, numThreads: t)
        }),
        ("recall@10", {
          try Evaluation.recallAtK(model, testInteractions: test, trainInteractions: train, k: 10, numThreads: t)
        }),
        ("AUC", {
          try Evaluation.aucScore(model, testInteractions: test, trainInteractions: train, numThreads: t)
        }),
        ("reciprocal rank", {
          try Evaluation.reciprocalRank(model, testInteractions: test, trainInteractions: train, numThreads: t)
        }),
        ("NDCG@10", {
          try Evaluation.ndcgAtK(model, testInteractions: test, trainInteractions: train, k: 10, numThreads: t)
        }),
        ("hit rate@10", {
          try Evaluation.hitRateAtK(model, testInteractions: test, trainInteractions: train, k: 10, numThreads: t)
        }),
      ]
      for (name, metric) in metrics {
        var values: [Float] = []
        try harness.measure(
          "evaluation", "\(label) \(name) t=\(t)", rates: [("pairs/s", pairs)]
        ) {
          values = try metric()
        }
        _ = values
      }
    }
    // Above 20,000 users the scalar engine ranks the test rows of every 10th user only.
    let scalarTest = test.shape.rows > 20_000 ? try everyTenthRow(test) : test
    let scalarUsers = (0..<scalarTest.shape.rows).filter { scalarTest.rowCount($0) > 0 }.count
    for engine in [ScoringEngine.blas, .scalar] {
      var summary = ""
      let test = engine == .blas ? test : scalarTest
      let users = engine == .blas ? testUsers : scalarUsers
      try harness.measure(
        "evaluation",
        "\(label) all 6 metrics, one predictRank, \(engine.rawValue) t=\(t)"
          + (users < testUsers ? " (\(users) test users)" : ""),
        rates: [("pairs/s", Double(users) * Double(test.shape.columns))]
      ) {
        let ranks = try model.predictRank(
          test, trainInteractions: train, numThreads: t, engine: engine)
        summary = String(
          format: "precision@10 %.4f, recall@10 %.4f, AUC %.4f, MRR %.4f, NDCG@10 %.4f, "
            + "hit rate@10 %.4f",
          mean(Evaluation.precisionAtK(ranks: ranks, k: 10)),
          mean(Evaluation.recallAtK(ranks: ranks, k: 10)),
          mean(Evaluation.aucScore(ranks: ranks, trainInteractions: train)),
          mean(Evaluation.reciprocalRank(ranks: ranks)),
          mean(Evaluation.ndcgAtK(ranks: ranks, k: 10)),
          mean(Evaluation.hitRateAtK(ranks: ranks, k: 10)))
      }
      harness.fact(
        "evaluation", "\(label) test (\(users) users), \(engine.rawValue): \(summary)")
    }
  }

  /// The rows `u % 10 == 0` of `m`, the others emptied.
  private func everyTenthRow(_ m: CSRMatrix) throws -> CSRMatrix {
    var rows: [Int32] = []
    var cols: [Int32] = []
    for u in stride(from: 0, to: m.shape.rows, by: 10) {
      for c in m.row(u).columns {
        rows.append(Int32(u))
        cols.append(c)
      }
    }
    return try CSRMatrix(
      COOMatrix(
        rows: m.shape.rows, columns: m.shape.columns, rowIndices: rows, columnIndices: cols,
        values: [Float](repeating: 1, count: rows.count)))
  }
}
