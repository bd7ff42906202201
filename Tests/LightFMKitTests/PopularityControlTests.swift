import XCTest

@testable import LightFMKit

/// `PopularityControl` in `recommend`, `predictRank` and `Evaluation.metrics`: the item bias
/// column replaced in the one GEMM pass.
final class PopularityControlTests: XCTestCase {
  typealias F = ScoringFixtures

  /// User 0 (no training items) likes item 0 best, item 1 next, item 2 least; item 0 is the
  /// popular one (4 training users), item 1 has one, item 2 none.
  func plantedExample() throws -> (model: LightFM, train: CSRMatrix) {
    let model = F.model(d: 1, users: [1, 1, 1, 1, 1], items: [1.0, 0.8, 0.1])
    let train = try F.csr([[], [0, 1], [0], [0], [0]], columns: 3)
    return (model, train)
  }

  func testPopularityPenaltyDropsAPopularItemBelowALessPopularOne() throws {
    let (model, train) = try plantedExample()
    XCTAssertEqual(PopularityControl.itemCounts(train), [4, 1, 0])
    for engine in ScoringEngine.allCases {
      let plain = try model.recommend(users: [0], count: 3, excluding: train, engine: engine)
      XCTAssertEqual(plain[0].map(\.index), [0, 1, 2])

      // β = 0: the same lists and scores as without a control.
      let zero = try model.recommend(users: [0], count: 3, excluding: train,
        popularity: PopularityControl(penalty: 0, counting: train), engine: engine)
      XCTAssertEqual(zero[0], plain[0])
      // A small β keeps the order here: 1 − 0.1·ln 5 > 0.8 − 0.1·ln 2.
      let small = try model.recommend(users: [0], count: 3, excluding: train,
        popularity: PopularityControl(penalty: 0.1, counting: train), engine: engine)
      XCTAssertEqual(small[0].map(\.index), [0, 1, 2])

      // β = 1: item 0 scores 1 − ln 5 < 0.1, item 1 scores 0.8 − ln 2 > 0.1.
      let large = try model.recommend(users: [0], count: 3, excluding: train,
        popularity: PopularityControl(penalty: 1, counting: train), engine: engine)
      XCTAssertEqual(large[0].map(\.index), [1, 2, 0])
      let expected: [Int: Double] = [0: 1 - log(5), 1: 0.8 - log(2), 2: 0.1]
      for entry in large[0] {
        XCTAssertEqual(Double(entry.score), expected[entry.index]!, accuracy: 1e-6)
      }

      // The packed (candidates) path carries the adjusted column too.
      let packed = try model.recommend(users: [0], count: 2, excluding: train, candidates: [2, 0],
        popularity: PopularityControl(penalty: 1, counting: train), engine: engine)
      XCTAssertEqual(packed[0].map(\.index), [2, 0])

      // predictRank ranks by the same adjusted scores.
      let test = try F.csr([[0]], columns: 3)
      let before = try model.predictRank(test, engine: engine)
      XCTAssertEqual(before.values, [0])
      let after = try model.predictRank(
        test, popularity: PopularityControl(penalty: 1, counting: train), engine: engine)
      XCTAssertEqual(after.values, [2])
    }
  }

  func testNoItemBiasScoresAreTheScoresMinusTheItemBias() throws {
    let users = 7
    let items = 40
    let d = 5
    let model = F.model(users: users, items: items, d: d, quantized: false, seed: 11)
    let ur = try model.userRepresentations()
    let ir = try model.itemRepresentations()
    for engine in ScoringEngine.allCases {
      let lists = try model.recommend(
        count: items, popularity: PopularityControl(itemBiases: false), numThreads: 2,
        engine: engine)
      for u in 0..<users {
        let list = lists[u]
        XCTAssertEqual(list.count, items)
        for entry in list {
          let full = F.score(u, entry.index, users: ur, items: ir, d: d)
          XCTAssertEqual(
            Double(entry.score), full - Double(ir.biases[entry.index]), accuracy: 1e-5)
        }
        let order = (0..<items).sorted {
          let a = F.score(u, $0, users: ur, items: ir, d: d) - Double(ir.biases[$0])
          let b = F.score(u, $1, users: ur, items: ir, d: d) - Double(ir.biases[$1])
          return a > b
        }
        XCTAssertEqual(list.map(\.index), order)
      }
    }
    // With biases off and a penalty, both apply.
    let counts = (0..<items).map { $0 % 5 }
    let both = try model.recommend(users: [0], count: items,
      popularity: PopularityControl(itemBiases: false, penalty: 0.5, itemCounts: counts))
    for entry in both[0] {
      let full = F.score(0, entry.index, users: ur, items: ir, d: d)
      let expected =
        full - Double(ir.biases[entry.index]) - 0.5 * log(1 + Double(counts[entry.index]))
      XCTAssertEqual(Double(entry.score), expected, accuracy: 1e-5)
    }
  }

  func testItemCountsCountPositiveEntries() throws {
    let coo = try COOMatrix(
      rows: 3, columns: 4, rowIndices: [0, 1, 2, 0, 1], columnIndices: [0, 0, 0, 2, 3],
      values: [1, 5, 0, -1, 2])
    XCTAssertEqual(PopularityControl.itemCounts(coo), [2, 0, 0, 1])
  }

  func testBadControlsAreErrors() throws {
    let (model, train) = try plantedExample()
    for control in [
      PopularityControl(penalty: -1, itemCounts: [1, 1, 1]),
      PopularityControl(penalty: .nan, itemCounts: [1, 1, 1]),
      PopularityControl(penalty: 1, itemCounts: [1, 1]),
      PopularityControl(penalty: 1, itemCounts: [1, -1, 1]),
    ] {
      XCTAssertThrowsError(try model.recommend(count: 2, popularity: control))
      XCTAssertThrowsError(
        try model.predictRank(try F.csr([[0]], columns: 3), popularity: control))
      XCTAssertThrowsError(
        try Evaluation.metrics(
          model, testInteractions: try F.csr([[0]], columns: 3), popularity: control))
    }
    // Without a penalty the counts are not needed.
    XCTAssertNoThrow(
      try model.recommend(
        count: 2, excluding: train, popularity: PopularityControl(itemBiases: false)))
  }

  func testMetricsRankByTheAdjustedScores() throws {
    let (model, train) = try plantedExample()
    let test = try F.csr([[0, 2]], columns: 3)
    let control = PopularityControl(penalty: 1, counting: train)
    let adjusted = try Evaluation.metrics(
      model, testInteractions: test, k: 1, popularity: control)
    let ranks = try model.predictRank(test, popularity: control)
    XCTAssertEqual(
      adjusted.precisionAtK, Evaluation.precisionAtK(ranks: ranks, k: 1))
    // Item 1 now leads: neither test item is first.
    XCTAssertEqual(adjusted.precisionAtK, [0])
    let plain = try Evaluation.metrics(model, testInteractions: test, k: 1)
    XCTAssertEqual(plain.precisionAtK, [1])
  }
}
