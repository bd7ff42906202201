import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// Growing a model's parameters keeps every learned value and initialises the new rows as `fit`.
final class GrowTests: XCTestCase {
  /// Parameters filled with distinct recognisable values, as if trained.
  func trained(d: Int, users: Int, items: Int) -> ModelParameters {
    var p = ModelParameters(noComponents: d, userFeatureCount: users, itemFeatureCount: items)
    func fill(_ a: inout [Float], _ base: Float) {
      for n in a.indices { a[n] = base + Float(n) * 0.001 }
    }
    for (n, (side, array)) in SideArray.fileOrder.enumerated() {
      fill(&p[side][array], Float(n + 1))
    }
    return p
  }

  func testGrowKeepsLearnedValuesAndInitialisesNewRows() throws {
    let d = 4
    for schedule in LightFM.LearningSchedule.allCases {
      var model = LightFM(noComponents: d, learningSchedule: schedule)
      let before = trained(d: d, users: 3, items: 5)
      model.parameters = before
      var generator = SystemRandomNumberGenerator()
      try model.grow(userFeatureCount: 5, itemFeatureCount: 9, using: &generator)
      let after = try XCTUnwrap(model.parameters)
      XCTAssertEqual(model.userFeatureCount, 5)
      XCTAssertEqual(model.itemFeatureCount, 9)
      let start: Float = schedule == .adagrad ? 1 : 0
      let pairs: [(WritableKeyPath<ModelParameters, [Float]>, Int, Int, Float?)] = [
        (\.users.embeddings, 3 * d, 5 * d, nil), (\.items.embeddings, 5 * d, 9 * d, nil),
        (\.users.biases, 3, 5, 0), (\.items.biases, 5, 9, 0),
        (\.users.embeddingGradients, 3 * d, 5 * d, start),
        (\.users.embeddingMomentum, 3 * d, 5 * d, 0),
        (\.users.biasGradients, 3, 5, start), (\.users.biasMomentum, 3, 5, 0),
        (\.items.embeddingGradients, 5 * d, 9 * d, start),
        (\.items.embeddingMomentum, 5 * d, 9 * d, 0),
        (\.items.biasGradients, 5, 9, start), (\.items.biasMomentum, 5, 9, 0),
      ]
      for (path, old, new, fill) in pairs {
        let grown = after[keyPath: path]
        XCTAssertEqual(grown.count, new, "\(path)")
        XCTAssertEqual(Array(grown.prefix(old)), before[keyPath: path], "\(path) kept")
        for value in grown.dropFirst(old) {
          if let fill {
            XCTAssertEqual(value, fill, "\(path) \(schedule)")
          } else {
            XCTAssertTrue(value >= -0.5 / Float(d) && value < 0.5 / Float(d), "\(path): \(value)")
          }
        }
      }
      // New embeddings are random, not a constant.
      XCTAssertGreaterThan(Set(after.items.embeddings.dropFirst(5 * d)).count, 1)
    }
  }

  func testGrowingToTheSameSizeChangesNothing() throws {
    var model = LightFM(noComponents: 3)
    model.parameters = trained(d: 3, users: 2, items: 2)
    var generator = SystemRandomNumberGenerator()
    try model.grow(userFeatureCount: 2, itemFeatureCount: 2, using: &generator)
    XCTAssertEqual(model.parameters, trained(d: 3, users: 2, items: 2))
  }

  func testGrowRefusesUnfittedModelsAndShrinking() throws {
    var generator = SystemRandomNumberGenerator()
    var unfitted = LightFM()
    XCTAssertThrowsError(
      try unfitted.grow(userFeatureCount: 1, itemFeatureCount: 1, using: &generator)
    ) {
      XCTAssertEqual(($0 as? LightFMError)?.kind, .notFitted)
    }
    var model = LightFM(noComponents: 2)
    model.parameters = trained(d: 2, users: 4, items: 4)
    XCTAssertThrowsError(
      try model.grow(userFeatureCount: 3, itemFeatureCount: 4, using: &generator)
    ) {
      let error = $0 as? LightFMError
      XCTAssertEqual(error?.kind, .invalidParameter)
      XCTAssertTrue(error?.message.contains("userFeatureCount 3") == true, "\(error as Any)")
    }
    XCTAssertThrowsError(
      try model.grow(userFeatureCount: 4, itemFeatureCount: 1, using: &generator))
    XCTAssertEqual(
      model.parameters, trained(d: 2, users: 4, items: 4), "a refused growth changes nothing")
  }

  func testGrowToDatasetAfterFitPartial() throws {
    var dataset = Dataset()
    try dataset.fit(users: ["a", "b"], items: ["x", "y", "z"], itemFeatures: ["red"])
    var model = LightFM(noComponents: 2)
    model.parameters = trained(
      d: 2, users: dataset.userFeaturesShape.columns, items: dataset.itemFeaturesShape.columns)
    try dataset.fitPartial(users: ["c"], items: ["w"], itemFeatures: ["blue"])
    var generator = SystemRandomNumberGenerator()
    try model.grow(to: dataset, using: &generator)
    XCTAssertEqual(model.userFeatureCount, 3)
    XCTAssertEqual(model.itemFeatureCount, 6)
  }

  /// The acceptance case: a fitted model grows after `Dataset.fitPartial` adds users and
  /// items; the growth alone changes no prediction of an existing pair, and `fitPartial` then
  /// trains on the larger matrices (it refuses them before the growth).
  func testGrowthKeepsPredictionsAndFitPartialContinues() throws {
    let data = Synthetic.generate(.small)
    let train = data.train
    let pairs = (0..<train.nnz).map { (Int(train.rowIndices[$0]), Int(train.columnIndices[$0])) }
    let oldPairs = pairs.filter { $0.0 < 800 && $0.1 < 400 }
    var dataset = Dataset()
    try dataset.fit(users: Array(0..<800), items: Array(0..<400))
    var model = LightFM(noComponents: 16, loss: .warp, randomState: 3)
    try model.fit(dataset.buildInteractions(oldPairs).interactions, epochs: 3)

    var rng = SplitMix64(seed: 9)
    let probeUsers = (0..<500).map { _ in Int(rng.next() % 800) }
    let probeItems = (0..<500).map { _ in Int(rng.next() % 400) }
    let before = try model.predict(userIds: probeUsers, itemIds: probeItems)

    try dataset.fitPartial(users: Array(800..<1000), items: Array(400..<500))
    let all = try dataset.buildInteractions(pairs).interactions
    var refused = model
    XCTAssertThrowsError(try refused.fitPartial(all, epochs: 1), "wider matrices need growth")
    try model.grow(to: dataset)
    XCTAssertEqual(model.userFeatureCount, 1000)
    XCTAssertEqual(model.itemFeatureCount, 500)
    XCTAssertEqual(try model.predict(userIds: probeUsers, itemIds: probeItems), before)

    let grown = try XCTUnwrap(model.parameters)
    try model.fitPartial(all, epochs: 2)
    let trained = try XCTUnwrap(model.parameters)
    let d = 16
    XCTAssertNotEqual(
      Array(trained.users.embeddings[(900 * d)..<(901 * d)]),
      Array(grown.users.embeddings[(900 * d)..<(901 * d)]), "a new user's row is trained")
    XCTAssertNotEqual(
      Array(trained.items.embeddingGradients[(450 * d)..<(451 * d)]),
      Array(grown.items.embeddingGradients[(450 * d)..<(451 * d)]),
      "a new item's accumulators move")
    XCTAssertTrue(trained.users.embeddings.allSatisfy(\.isFinite))
  }

  /// The initial embeddings of a seeded fit are pinned: the top 24 bits k of each draw of the
  /// training generator give (k − 2²³)·2⁻²⁴ / d, user rows first, then item rows. The standard
  /// library's `Float.random` is not used, so a seed means the same model on every toolchain.
  func testInitialValuesArePinnedToTheGenerator() throws {
    let d = 3
    var model = LightFM(noComponents: d, randomState: 2024)
    let interactions = try COOMatrix(
      rows: 2, columns: 2, rowIndices: [0], columnIndices: [1], values: [1])
    try model.fit(interactions, epochs: 0)
    let p = try XCTUnwrap(model.parameters)
    var rng = TrainingRNG(seed: 2024)
    func expected() -> Float {
      let k = Int64(rng.next() >> 40)
      // (k − 2²³)/2²⁴ is exact; its product with Float(1/d) is rounded once, in Double.
      return Float(Double(k - (1 << 23)) / 16_777_216 * Double(1 / Float(d)))
    }
    let users = (0..<(2 * d)).map { _ in expected() }
    let items = (0..<(2 * d)).map { _ in expected() }
    XCTAssertEqual(p.users.embeddings.map(\.bitPattern), users.map(\.bitPattern))
    XCTAssertEqual(p.items.embeddings.map(\.bitPattern), items.map(\.bitPattern))
    XCTAssertEqual(Array(p.users.embeddings.prefix(3)), [-0.14806905, 0.094034575, -0.14264837])
  }
}
