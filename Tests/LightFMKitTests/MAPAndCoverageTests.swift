import XCTest

@testable import LightFMKit

/// AP@k (MAP@k) and catalog coverage in `Evaluation` and `RankingMetrics`.
final class MAPAndCoverageTests: XCTestCase {
  typealias F = ScoringFixtures

  // MARK: - MAP@k

  func testAveragePrecisionFromHandPickedRanks() throws {
    // One user per row: ranks as predictRank gives them.
    let ranks = try CSRMatrix(
      rows: 4, columns: 10, rowPointers: [0, 2, 4, 4, 7], columnIndices: [0, 1, 0, 1, 0, 1, 2],
      values: [0, 2, 1, 1, 5, 0, 9])
    // Row 0, k = 3: hits at positions 0 and 2 → (1/1 + 2/3) / min(3, 2).
    // Row 1: two test items tied at the top, both rank 1 → (2/2 + 2/2) / 2.
    // Row 3, k = 3: one hit at position 0 → (1/1) / min(3, 3).
    let k3 = Evaluation.averagePrecisionAtK(ranks: ranks, k: 3)
    XCTAssertEqual(k3.count, 3)
    XCTAssertEqual(k3[0], Float((1 + 2.0 / 3) / 2), accuracy: 1e-6)
    XCTAssertEqual(k3[1], 1, accuracy: 1e-6)
    XCTAssertEqual(k3[2], Float(1.0 / 3), accuracy: 1e-6)
    // k = 1: the denominator is min(1, |test|) = 1.
    XCTAssertEqual(Evaluation.averagePrecisionAtK(ranks: ranks, k: 1), [1, 0, 1])
    // A kept user without test items gets 0.
    let kept = Evaluation.averagePrecisionAtK(ranks: ranks, k: 3, preserveRows: true)
    XCTAssertEqual(kept.count, 4)
    XCTAssertEqual(kept[2], 0)
  }

  /// AP@k by brute force: every item the user did not train on, sorted by score, walked from
  /// the top; each test item within the first k adds the precision at its position.
  static func bruteAveragePrecision(
    _ model: LightFM, test: [[Int]], train: [[Int]], items: Int, k: Int
  ) throws -> [Float] {
    let ur = try model.userRepresentations()
    let ir = try model.itemRepresentations()
    let d = model.noComponents
    return test.enumerated().compactMap { u, row -> Float? in
      guard !row.isEmpty else { return nil }
      let relevant = Set(row)
      let known = Set(train[u])
      let order = (0..<items).filter { !known.contains($0) }
        .map { (item: $0, score: F.score(u, $0, users: ur, items: ir, d: d)) }
        .sorted { $0.score > $1.score }
      var hits = 0
      var total = 0.0
      for (position, entry) in order.prefix(k).enumerated() where relevant.contains(entry.item) {
        hits += 1
        total += Double(hits) / Double(position + 1)
      }
      return Float(total / Double(min(k, row.count)))
    }
  }

  func testMAPMatchesBruteForceOnRandomCases() throws {
    for seed in UInt64(1)...12 {
      var rng = F.Rng(state: seed * 7919)
      let users = 3 + rng.int(8)
      let items = 5 + rng.int(30)
      let d = 1 + rng.int(6)
      let model = F.model(users: users, items: items, d: d, quantized: false, seed: seed)
      let train = F.randomRows(users: users, items: items, density: 0.2, rng: &rng)
      let test = F.randomRows(users: users, items: items, density: 0.25, rng: &rng).enumerated()
        .map { u, row in row.filter { !train[u].contains($0) } }
      let testMatrix = try F.csr(test, columns: items)
      let trainMatrix = try F.csr(train, columns: items)
      for k in [1, 3, 5, 50] {
        let expected = try Self.bruteAveragePrecision(
          model, test: test, train: train, items: items, k: k)
        for engine in ScoringEngine.allCases {
          let all = try Evaluation.metrics(
            model, testInteractions: testMatrix, trainInteractions: trainMatrix, k: k,
            numThreads: 2, engine: engine)
          XCTAssertEqual(all.averagePrecisionAtK.count, expected.count)
          for (got, want) in zip(all.averagePrecisionAtK, expected) {
            XCTAssertEqual(got, want, accuracy: 1e-5, "seed \(seed), k \(k), \(engine)")
          }
          let single = try Evaluation.averagePrecisionAtK(
            model, testInteractions: testMatrix, trainInteractions: trainMatrix, k: k,
            engine: engine)
          XCTAssertEqual(single, all.averagePrecisionAtK)
        }
      }
    }
  }

  // MARK: - Coverage

  /// Items scored 2, 1, 0, −3 along one axis; users 0, 1 and 3 point along it, user 2 against.
  func coverageExample() throws -> (model: LightFM, test: CSRMatrix, train: CSRMatrix) {
    let model = F.model(d: 1, users: [1, 1, -1, 1], items: [2, 1, 0, -3])
    // User 3 has no test items: its list (item 2, its best untrained item) does not count.
    let test = try F.csr([[2], [2], [2], []], columns: 4)
    let train = try F.csr([[], [0], [], [0, 1]], columns: 4)
    return (model, test, train)
  }

  func testCoverageByHand() throws {
    let (model, test, train) = try coverageExample()
    // Top 1 without training items: user 0 → 0, user 1 → 1, user 2 → 3: 3 of 4 items.
    let top1 = try Evaluation.metrics(
      model, testInteractions: test, trainInteractions: train, k: 1)
    XCTAssertEqual(top1.coverage, 0.75)
    // Top 2: {0, 1}, {1, 2}, {3, 2}: every item.
    let top2 = try Evaluation.metrics(
      model, testInteractions: test, trainInteractions: train, k: 2)
    XCTAssertEqual(top2.coverage, 1)
    // Without the training items left out, users 0 and 1 both get item 0: {0, 3}.
    let open = try Evaluation.metrics(model, testInteractions: test, k: 1)
    XCTAssertEqual(open.coverage, 0.5)
    // A penalty on item 0 (count 2) hands the first place to item 1: {1, 3}.
    let control = PopularityControl(penalty: 1, itemCounts: [2, 0, 0, 0])
    let penalised = try Evaluation.metrics(
      model, testInteractions: test, k: 1, popularity: control)
    XCTAssertEqual(penalised.coverage, 0.5)
    XCTAssertEqual(try model.recommend(users: [0], count: 1, popularity: control)[0][0].index, 1)
    // Ranks alone cannot give coverage.
    let ranks = try model.predictRank(test, trainInteractions: train)
    XCTAssertNil(RankingMetrics(ranks: ranks, trainInteractions: train, k: 1).coverage)
  }

  func testCoverageMatchesTheRecommendedLists() throws {
    for seed in UInt64(1)...6 {
      var rng = F.Rng(state: seed * 104_729)
      let users = 20 + rng.int(40)
      let items = 30 + rng.int(90)
      let model = F.model(users: users, items: items, d: 4, quantized: true, seed: seed)
      let train = F.randomRows(users: users, items: items, density: 0.1, rng: &rng)
      let test = F.randomRows(users: users, items: items, density: 0.05, rng: &rng).enumerated()
        .map { u, row in row.filter { !train[u].contains($0) } }
      let trainMatrix = try F.csr(train, columns: items)
      let active = (0..<users).filter { !test[$0].isEmpty }
      for k in [1, 5, 10] {
        let lists = try model.recommend(users: active, count: k, excluding: trainMatrix)
        let distinct = Set(lists.flatMap { $0.map(\.index) })
        let metrics = try Evaluation.metrics(
          model, testInteractions: try F.csr(test, columns: items),
          trainInteractions: trainMatrix, k: k, numThreads: 2)
        XCTAssertEqual(
          metrics.coverage, Double(distinct.count) / Double(items), "seed \(seed), k \(k)")
      }
    }
  }
}
