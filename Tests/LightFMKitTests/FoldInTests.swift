import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// The fold-in API on a model with planted parameters: 4 item clusters, 8 trained users.
final class FoldInTests: XCTestCase {
  let d = 6
  let clusters = 4
  let perCluster = 10

  /// A dataset and model whose item embeddings sit around 4 cluster centres and whose trained
  /// users point at one cluster each, with length 2.
  func planted(userFeatures: [String] = []) throws -> (Dataset, LightFM) {
    var rng = SplitMix64(seed: 5)
    var dataset = Dataset()
    let items = clusters * perCluster
    try dataset.fit(
      users: (0..<8).map { "u\($0)" }, items: (0..<items).map { "i\($0)" },
      userFeatures: userFeatures)
    var model = LightFM(noComponents: d)
    var p = ModelParameters(
      noComponents: d, userFeatureCount: dataset.userFeaturesShape.columns,
      itemFeatureCount: items)
    var centres: [[Float]] = []
    for _ in 0..<clusters {
      centres.append((0..<d).map { _ in Float.random(in: -1...1, using: &rng) })
    }
    for i in 0..<items {
      for c in 0..<d {
        p.items.embeddings[i * d + c] =
          centres[i / perCluster][c] + Float.random(in: -0.1...0.1, using: &rng)
      }
      p.items.biases[i] = Float(i % 3) * 0.1
    }
    for u in 0..<8 {
      let centre = centres[u % clusters]
      let norm = centre.reduce(0) { $0 + $1 * $1 }.squareRoot()
      for c in 0..<d { p.users.embeddings[u * d + c] = 2 * centre[c] / norm }
    }
    for f in 8..<dataset.userFeaturesShape.columns {
      for c in 0..<d { p.users.embeddings[f * d + c] = Float.random(in: -0.2...0.2, using: &rng) }
      p.users.biases[f] = 0.25
    }
    model.parameters = p
    return (dataset, model)
  }

  func scores(_ p: ArraySlice<Float>, _ model: LightFM) throws -> [Float] {
    let items = try model.itemRepresentations()
    return (0..<items.biases.count).map { i in
      items.biases[i] + zip(p, items.embeddings[(i * d)..<((i + 1) * d)]).reduce(0) {
        $0 + $1.0 * $1.1
      }
    }
  }

  func testRepresentationsRankTheLikedClusterFirstAtTheTrainedLength() throws {
    let (dataset, model) = try planted()
    // Two new users: one likes three items of cluster 2, one of cluster 0, plus an ignored 0.
    let interactions = try CSRMatrix(
      COOMatrix(
        rows: 2, columns: dataset.itemIDs.count, rowIndices: [0, 0, 0, 1, 1, 1],
        columnIndices: [20, 23, 27, 1, 5, 30], values: [1, 1, 1, 1, 2, 0]))
    let before = model.parameters
    let (biases, embeddings) = try model.foldInRepresentations(interactions: interactions)
    XCTAssertEqual(model.parameters, before, "nothing in the model changes")
    XCTAssertEqual(biases, [0, 0])
    XCTAssertEqual(embeddings.count, 2 * d)
    for (u, cluster) in [(0, 2), (1, 0)] {
      let p = embeddings[(u * d)..<((u + 1) * d)]
      XCTAssertEqual(p.reduce(0) { $0 + $1 * $1 }.squareRoot(), 2, accuracy: 1e-4)
      let s = try scores(p, model)
      let top = (0..<s.count).sorted { s[$0] > s[$1] }.prefix(perCluster)
      XCTAssertTrue(top.allSatisfy { $0 / perCluster == cluster }, "user \(u): \(Array(top))")
    }
    // The least-squares scale is another length, the same direction.
    var options = FoldInOptions()
    options.scale = .leastSquares
    let raw = try model.foldInRepresentations(interactions: interactions, options: options)
    let p0 = raw.embeddings[0..<d]
    let n0 = p0.reduce(0) { $0 + $1 * $1 }.squareRoot()
    XCTAssertNotEqual(n0, 2, accuracy: 1e-2)
    for c in 0..<d { XCTAssertEqual(p0[c] * 2 / n0, embeddings[c], accuracy: 1e-4) }
  }

  func testFoldInStoresUsersInTheirIdentityFeature() throws {
    var (dataset, model) = try planted()
    try dataset.fitPartial(users: ["new1", "new2"])
    let (interactions, _) = try dataset.buildInteractions([
      ("new1", "i20"), ("new1", "i23"), ("new2", "i3"), ("new2", "i7"),
    ])
    let expected = try model.foldInRepresentations(
      interactions: interactions.toCSR().selectingRows([8, 9]))
    let trainedBefore = try model.userRepresentations().embeddings.prefix(8 * d)
    var generator = SplitMix64(seed: 1)
    try model.foldIn(
      users: [8, 9], interactions: interactions.toCSR(), dataset: dataset, using: &generator)
    XCTAssertEqual(model.userFeatureCount, 10)
    let after = try model.userRepresentations()
    XCTAssertEqual(after.embeddings.prefix(8 * d), trainedBefore, "trained users unchanged")
    for n in 0..<(2 * d) {
      XCTAssertEqual(after.embeddings[8 * d + n], expected.embeddings[n], accuracy: 1e-5)
    }
    XCTAssertEqual(Array(after.biases.suffix(2)), [0, 0])
  }

  /// A fold-in that throws after the model has grown leaves the model exactly as it was, as
  /// `fit` does.
  func testFailedFoldInLeavesTheModelAsItWas() throws {
    var (dataset, model) = try planted()
    try dataset.fitPartial(users: ["new"])
    let (interactions, _) = try dataset.buildInteractions([("new", "i3")])
    let (parameters, featureCount) = (model.parameters, model.userFeatureCount)
    let generator = model.generator
    // Row 99 is outside the interactions: found only after the growth to the dataset.
    XCTAssertThrowsError(
      try model.foldIn(users: [99], interactions: interactions.toCSR(), dataset: dataset))
    XCTAssertEqual(model.userFeatureCount, featureCount)
    XCTAssertTrue(model.parameters == parameters, "the parameters changed")
    XCTAssertEqual(model.generator, generator)
  }

  /// With metadata features, the identity row receives (p − p⁰)/x_c so that the user's
  /// representation over all its features is the fold-in solution with p⁰ as the prior.
  func testFoldInWithMetadataFeaturesUsesThemAsThePrior() throws {
    var (dataset, model) = try planted(userFeatures: ["young", "old"])
    try dataset.fitPartial(users: ["new"])
    let rows = (0..<9).map { u in ("u\(u)", [u % 2 == 0 ? "young" : "old"]) }
    let named = rows.map { ($0.0 == "u8" ? "new" : $0.0, $0.1) }
    let features = try dataset.buildUserFeatures(named)
    let (interactions, _) = try dataset.buildInteractions([("new", "i11"), ("new", "i12")])
    let newRow = dataset.userIDs["new"]!
    // What the representation API gives for the same user from its "young" feature alone.
    let youngOnly = try CSRMatrix(
      COOMatrix(
        rows: 1, columns: 11, rowIndices: [0],
        columnIndices: [Int32(dataset.userFeatureNames["young"]!)], values: [0.5]))
    var grownModel = model
    var generator = SplitMix64(seed: 2)
    try grownModel.grow(to: dataset, using: &generator)
    for centred in [false, true] {
      var options = FoldInOptions()
      options.featurePrior = centred
      let expected = try grownModel.foldInRepresentations(
        interactions: interactions.toCSR().selectingRows([newRow]), userFeatures: youngOnly,
        trainedUserFeatures: features.selectingRows(Array(0..<8)), options: options)
      var folded = model
      generator = SplitMix64(seed: 2)
      try folded.foldIn(
        users: [newRow], interactions: interactions.toCSR(), dataset: dataset,
        userFeatures: features, options: options, using: &generator)
      let after = try folded.userRepresentations(features: features)
      for c in 0..<d {
        XCTAssertEqual(after.embeddings[newRow * d + c], expected.embeddings[c], accuracy: 1e-5)
      }
      XCTAssertEqual(after.biases[newRow], 0.125, accuracy: 1e-6, "b_u from its 'young' feature")
      XCTAssertEqual(expected.biases, [0.125])
    }
  }

  func testBadInputIsAClearError() throws {
    var (dataset, model) = try planted()
    func message(_ body: () throws -> Void) -> String {
      do {
        try body()
        return "no error"
      } catch {
        return "\(error)"
      }
    }
    let wrongWidth = CSRMatrix(emptyRows: 1, columns: 3)
    XCTAssertTrue(
      message { _ = try model.foldInRepresentations(interactions: wrongWidth) }
        .contains("expected one column per item"))
    var bad = FoldInOptions()
    bad.regularization = 0
    XCTAssertTrue(
      message {
        _ = try model.foldInRepresentations(
          interactions: CSRMatrix(emptyRows: 1, columns: 40), options: bad)
      }.contains("invalid regularization 0"))
    XCTAssertTrue(
      message {
        _ = try LightFM().foldInRepresentations(interactions: CSRMatrix(emptyRows: 1, columns: 40))
      }.contains("fit"))
    try dataset.fitPartial(users: ["new"])
    var generator = SplitMix64(seed: 3)
    let interactions = CSRMatrix(emptyRows: 9, columns: 40)
    XCTAssertTrue(
      message {
        try model.foldIn(
          users: [12], interactions: interactions, dataset: dataset, using: &generator)
      }.contains("user index 12 at position 0"))
    var noIdentity = Dataset(userIdentityFeatures: false)
    try noIdentity.fit(users: ["a"], items: ["b"])
    XCTAssertTrue(
      message {
        try model.foldIn(
          users: [0], interactions: interactions, dataset: noIdentity, using: &generator)
      }.contains("identity features off"))
  }

  /// README's fold-in example, on the quickstart data.
  func testReadmeFoldInExample() throws {
    var dataset = Dataset()
    try dataset.fit(
      users: ["user_1", "user_2", "user_3"], items: ["item_A", "item_B", "item_C", "item_D"])
    let (interactions, _) = try dataset.buildInteractions([
      ("user_1", "item_A"), ("user_1", "item_C"), ("user_2", "item_B"), ("user_2", "item_C"),
      ("user_3", "item_A"), ("user_3", "item_B"), ("user_3", "item_D"),
    ])
    var model = LightFM(noComponents: 4, loss: .warp, randomState: 42)
    try model.fit(interactions, epochs: 5)
    let before = try model.predict(userIds: [0, 1, 2], itemIds: [0, 1, 2])

    try dataset.fitPartial(users: ["user_4"])
    let u = dataset.mapping().userIdMap["user_4"]!
    let arrivals = try dataset.buildInteractions([("user_4", "item_B"), ("user_4", "item_D")])
      .interactions.toCSR()
    try model.foldIn(users: [u], interactions: arrivals, dataset: dataset)
    let lists = try model.recommend(users: [u], count: 10, excluding: arrivals)
    XCTAssertEqual(Set(lists[0].map(\.index)), [0, 2], "the two items user_4 does not know")
    XCTAssertEqual(try model.predict(userIds: [0, 1, 2], itemIds: [0, 1, 2]), before)
    let rows = arrivals.selectingRows([u])
    let (biases, embeddings) = try model.foldInRepresentations(interactions: rows)
    XCTAssertEqual(biases, [0])
    XCTAssertEqual(embeddings.count, 4)
  }

  /// The optional refinement: the model's loss on the new rows alone, items frozen; the result
  /// does not depend on the thread count and still ranks the liked cluster first.
  func testRefinementIsDeterministicAndKeepsTheClusters() throws {
    let (dataset, trained) = try planted()
    var model = trained
    model.loss = .warp
    model.randomState = 4
    let interactions = try CSRMatrix(
      COOMatrix(
        rows: 2, columns: dataset.itemIDs.count, rowIndices: [0, 0, 0, 1, 1, 1],
        columnIndices: [20, 23, 27, 1, 5, 8], values: [1, 1, 1, 1, 1, 1]))
    let plain = try model.foldInRepresentations(interactions: interactions).embeddings
    var results: [[Float]] = []
    for threads in [1, 2] {
      let options = FoldInOptions(refinementEpochs: 5, numThreads: threads)
      results.append(
        try model.foldInRepresentations(interactions: interactions, options: options).embeddings)
    }
    XCTAssertEqual(results[0], results[1])
    XCTAssertNotEqual(results[0], plain)
    for (u, cluster) in [(0, 2), (1, 0)] {
      let s = try scores(results[0][(u * d)..<((u + 1) * d)], model)
      let top = (0..<s.count).sorted { s[$0] > s[$1] }.prefix(perCluster)
      XCTAssertTrue(top.allSatisfy { $0 / perCluster == cluster }, "user \(u): \(Array(top))")
    }
  }
}
