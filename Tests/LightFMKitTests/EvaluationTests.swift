import XCTest
import _LightFMTestSupport

@testable import LightFMKit

final class EvaluationTests: XCTestCase {
  typealias F = ScoringFixtures

  /// d = 1: user 0 ranks items 0…4 in order, user 1 in reverse, user 2 has no test items.
  func tinyModel() -> LightFM { F.model(d: 1, users: [1, -1, 0], items: [5, 4, 3, 2, 1]) }

  func testHandCheckedMetrics() throws {
    let model = tinyModel()
    let test = try F.csr([[2, 4], [0], []], columns: 5)
    let train = try F.csr([[1], [], []], columns: 5)
    let ranks = try model.predictRank(test, trainInteractions: train)
    XCTAssertEqual(ranks.values, [1, 3, 4])
    XCTAssertEqual(ranks.columnIndices, test.columnIndices)

    func metric(_ f: (Bool) throws -> [Float]) rethrows -> ([Float], [Float]) {
      (try f(false), try f(true))
    }
    let precision = try metric {
      try Evaluation.precisionAtK(
        model, testInteractions: test, trainInteractions: train, k: 2, preserveRows: $0)
    }
    XCTAssertEqual(precision.0, [0.5, 0])
    XCTAssertEqual(precision.1, [0.5, 0, 0])
    let recall = try metric {
      try Evaluation.recallAtK(
        model, testInteractions: test, trainInteractions: train, k: 2, preserveRows: $0)
    }
    XCTAssertEqual(recall.0, [0.5, 0])
    XCTAssertEqual(recall.1, [0.5, 0, 0])
    // AUC: user 0 has negatives {0, 3}; of the pairs (2,0) (2,3) (4,0) (4,3) only (2,3) is won.
    let auc = try metric {
      try Evaluation.aucScore(
        model, testInteractions: test, trainInteractions: train, preserveRows: $0)
    }
    XCTAssertEqual(auc.0, [0.25, 0])
    XCTAssertEqual(auc.1, [0.25, 0, 0.5])
    let rr = try Evaluation.reciprocalRank(
      model, testInteractions: test, trainInteractions: train)
    XCTAssertEqual(rr, [0.5, 0.2])
    let ndcg = try Evaluation.ndcgAtK(
      model, testInteractions: test, trainInteractions: train, k: 2)
    let expectedNDCG = (1 / log2(3.0)) / (1 + 1 / log2(3.0))
    XCTAssertEqual(Double(ndcg[0]), expectedNDCG, accuracy: 1e-6)
    XCTAssertEqual(ndcg[1], 0)
    let hits = try Evaluation.hitRateAtK(
      model, testInteractions: test, trainInteractions: train, k: 2, preserveRows: true)
    XCTAssertEqual(hits, [1, 0, 0])
    // Without the train matrix, item 1 counts against both test items of user 0.
    let open = try model.predictRank(test)
    XCTAssertEqual(open.values, [2, 4, 4])
  }

  /// `Evaluation.metrics` gives what each metric function gives, from one ranking.
  func testAllMetricsFromOneRankingMatchTheSingleMetrics() throws {
    let model = tinyModel()
    let test = try F.csr([[2, 4], [0], []], columns: 5)
    let train = try F.csr([[1], [], []], columns: 5)
    for preserve in [false, true] {
      let all = try Evaluation.metrics(
        model, testInteractions: test, trainInteractions: train, k: 2, preserveRows: preserve)
      let singles: [(KeyPath<RankingMetrics, [Float]>, () throws -> [Float])] = [
        (\.precisionAtK, {
          try Evaluation.precisionAtK(
            model, testInteractions: test, trainInteractions: train, k: 2, preserveRows: preserve)
        }),
        (\.recallAtK, {
          try Evaluation.recallAtK(
            model, testInteractions: test, trainInteractions: train, k: 2, preserveRows: preserve)
        }),
        (\.auc, {
          try Evaluation.aucScore(
            model, testInteractions: test, trainInteractions: train, preserveRows: preserve)
        }),
        (\.reciprocalRank, {
          try Evaluation.reciprocalRank(
            model, testInteractions: test, trainInteractions: train, preserveRows: preserve)
        }),
        (\.ndcgAtK, {
          try Evaluation.ndcgAtK(
            model, testInteractions: test, trainInteractions: train, k: 2, preserveRows: preserve)
        }),
        (\.hitRateAtK, {
          try Evaluation.hitRateAtK(
            model, testInteractions: test, trainInteractions: train, k: 2, preserveRows: preserve)
        }),
      ]
      for (metric, single) in singles { XCTAssertEqual(all[keyPath: metric], try single()) }
      XCTAssertEqual(all.users, preserve ? 3 : 2)
      XCTAssertEqual(all.testInteractions, 3)
      XCTAssertEqual(all.mean(\.precisionAtK), preserve ? 1.0 / 6 : 0.25, accuracy: 1e-7)
    }
    XCTAssertThrowsError(try Evaluation.metrics(model, testInteractions: test, k: 0))
  }

  func testTiesCountAgainstTheItem() throws {
    let model = F.model(d: 1, users: [1], items: [1, 1, 1, 0])
    let ranks = try model.predictRank(try F.csr([[0, 2, 3]], columns: 4))
    XCTAssertEqual(ranks.values, [2, 2, 3])
  }

  /// A d = 3 quantised model (exact scores, so ranks equal a brute-force count) with random
  /// training rows, and a test set of about one in `testOneIn` of the other items.
  private func quantizedSplit(
    users: Int, items: Int, seed: UInt64, trainDensity: Double, testOneIn: Int
  ) -> (model: LightFM, known: [[Int]], test: [[Int]]) {
    let model = F.model(users: users, items: items, d: 3, quantized: true, seed: seed)
    var rng = F.Rng(state: seed + 1)
    let known = F.randomRows(users: users, items: items, density: trainDensity, rng: &rng)
    let test = (0..<users).map { u in
      (0..<items).filter { !known[u].contains($0) && rng.int(testOneIn) == 0 }
    }
    return (model, known, test)
  }

  func testPredictRankMatchesBruteForce() throws {
    let (users, items) = (31, 90)
    var (model, known, test) = quantizedSplit(
      users: users, items: items, seed: 21, trainDensity: 0.15, testOneIn: 10)
    test[0] = []
    // Long rows exercise the sorted-count path (> 24 test items).
    test[1] = (0..<items).filter { !known[1].contains($0) && $0 % 2 == 0 }
    test[2] = (0..<items).filter { !known[2].contains($0) }
    let testCSR = try F.csr(test, columns: items)
    let trainCSR = try F.csr(known, columns: items)
    let expected = try F.bruteRanks(model, test: test, train: known, items: items)
    for engine in ScoringEngine.allCases {
      for threads in [1, 2] {
        let ranks = try model.predictRank(
          testCSR, trainInteractions: trainCSR, numThreads: threads, engine: engine)
        for u in 0..<users {
          XCTAssertEqual(ranks.row(u).values.map { Int($0) }, expected[u], "user \(u)")
        }
      }
    }
    // Overlap: an error, unless turned off (then the overlapping items are still left out).
    var overlapping = test
    overlapping[3].append(contentsOf: known[3].prefix(2))
    overlapping[3].sort()
    let overlapCSR = try F.csr(overlapping, columns: items)
    XCTAssertThrowsError(try model.predictRank(overlapCSR, trainInteractions: trainCSR))
    let ranks = try model.predictRank(
      overlapCSR, trainInteractions: trainCSR, checkIntersections: false)
    let bruteOverlap = try F.bruteRanks(model, test: overlapping, train: known, items: items)
    XCTAssertEqual(ranks.row(3).values.map { Int($0) }, bruteOverlap[3])
  }

  /// Rows across several item tiles, short and long test rows, through every kernel width:
  /// each count path (the kernel and the sorted search) and each tile boundary of the walks
  /// through the training and test items.
  func testPredictRankMatchesBruteForceAcrossTilesAndKernelWidths() throws {
    let (users, items) = (12, 2_500)
    var (model, known, test) = quantizedSplit(
      users: users, items: items, seed: 31, trainDensity: 0.05, testOneIn: 100)
    test[0] = (0..<items).filter { !known[0].contains($0) && $0 % 4 == 3 }
    test[1] = (0..<items).filter { !known[1].contains($0) && $0 % 40 == 1 }
    test[2] = [0, 1023, 1024, 2047, 2048, items - 1].filter { !known[2].contains($0) }
    test[3] = []
    XCTAssertGreaterThan(test[0].count, BlockedRanker.directCountLimit, "a long row")
    let expected = try F.bruteRanks(model, test: test, train: known, items: items)
    let testCSR = try F.csr(test, columns: items)
    let trainCSR = try F.csr(known, columns: items)
    let original = SelectionKernels.width
    defer { SelectionKernels.limitWidth(original) }
    for width in [512, 256, 0] {
      SelectionKernels.limitWidth(width)
      for engine in ScoringEngine.allCases {
        let ranks = try model.predictRank(
          testCSR, trainInteractions: trainCSR, numThreads: 2, engine: engine)
        for u in 0..<users {
          XCTAssertEqual(
            ranks.row(u).values.map { Int($0) }, expected[u],
            "user \(u), width \(SelectionKernels.width), \(engine)")
        }
      }
    }
  }

  func testAUCAgreesWithPairwiseAUC() throws {
    let (users, items) = (40, 300)
    let model = F.model(users: users, items: items, d: 8, quantized: false, seed: 23)
    var rng = F.Rng(state: 24)
    let known = F.randomRows(users: users, items: items, density: 0.1, rng: &rng)
    let test = (0..<users).map { u in
      (0..<items).filter { !known[u].contains($0) && rng.int(8) == 0 }
    }
    let auc = try Evaluation.aucScore(
      model, testInteractions: try F.csr(test, columns: items),
      trainInteractions: try F.csr(known, columns: items))
    let ur = try model.userRepresentations()
    let ir = try model.itemRepresentations()
    var pairwise: [Double] = []
    for u in 0..<users where !test[u].isEmpty {
      let scores = (0..<items).map { F.score(u, $0, users: ur, items: ir, d: 8) }
      let negatives = (0..<items).filter { !known[u].contains($0) && !test[u].contains($0) }
      var won = 0.0
      for i in test[u] {
        for j in negatives {
          won += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0
        }
      }
      pairwise.append(won / Double(test[u].count * negatives.count))
    }
    XCTAssertEqual(auc.count, pairwise.count)
    for (a, b) in zip(auc, pairwise) { XCTAssertEqual(Double(a), b, accuracy: 0.01) }
    let meanGap = zip(auc, pairwise).reduce(0.0) { $0 + abs(Double($1.0) - $1.1) }
    XCTAssertLessThan(meanGap / Double(auc.count), 0.01)
  }

  func testShapeErrors() throws {
    let model = tinyModel()
    XCTAssertThrowsError(try model.predictRank(try F.csr([[0]], columns: 4)))
    let tooManyRows = try F.csr(Array(repeating: [], count: 4), columns: 5)
    XCTAssertThrowsError(try model.predictRank(tooManyRows))
    XCTAssertThrowsError(
      try model.predictRank(
        try F.csr([[0]], columns: 5), trainInteractions: try F.csr([[1], []], columns: 5)))
    XCTAssertThrowsError(
      try Evaluation.precisionAtK(model, testInteractions: try F.csr([[0]], columns: 5), k: 0))
  }

  /// MovieLens 100K (ua.base / ua.test, ratings ≥ 4) with a popularity-flavoured model: every
  /// metric from the BLAS path equals the scalar path's.
  func testMovieLensMetricsAgreeBetweenEngines() throws {
    guard let dir = MovieLens.directory() else { throw XCTSkip(MovieLens.missingMessage) }
    func matrix(_ name: String) throws -> COOMatrix {
      let ratings = try MovieLens.ratings(name, in: dir).filter { $0.rating >= 4 }
      return try COOMatrix(
        rows: 943, columns: 1682,
        rowIndices: ratings.map { Int32($0.user - 1) },
        columnIndices: ratings.map { Int32($0.item - 1) },
        values: ratings.map { _ in 1 })
    }
    let train = try matrix("ua.base")
    let test = try matrix("ua.test")
    var model = F.model(users: 943, items: 1682, d: 32, quantized: false, seed: 25)
    var popularity = [Float](repeating: 0, count: 1682)
    for i in train.columnIndices { popularity[Int(i)] += 1 }
    for i in 0..<1682 { model.parameters!.items.biases[i] = log(1 + popularity[i]) * 10 }
    var results: [[Float]] = []
    for engine in ScoringEngine.allCases {
      let ranks = try model.predictRank(test, trainInteractions: train, engine: engine)
      let trainCSR = train.interactionsCSR()
      results.append([
        mean(Evaluation.precisionAtK(ranks: ranks, k: 10)),
        mean(Evaluation.recallAtK(ranks: ranks, k: 10)),
        mean(Evaluation.aucScore(ranks: ranks, trainInteractions: trainCSR)),
        mean(Evaluation.reciprocalRank(ranks: ranks)),
        mean(Evaluation.ndcgAtK(ranks: ranks, k: 10)),
        mean(Evaluation.hitRateAtK(ranks: ranks, k: 10)),
      ])
    }
    for (a, b) in zip(results[0], results[1]) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    XCTAssertGreaterThan(results[0][2], 0.8, "popularity alone should give AUC > 0.8")
    let auc = try Evaluation.aucScore(model, testInteractions: test, trainInteractions: train)
    XCTAssertEqual(mean(auc), results[0][2], accuracy: 1e-6)
  }

  func mean(_ a: [Float]) -> Float { a.reduce(0, +) / Float(max(a.count, 1)) }
}
