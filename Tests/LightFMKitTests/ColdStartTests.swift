import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// Cold start from features on a planted hybrid model: user feature `likes:c` and item feature
/// `genre:c` both embed as the centre of cluster c.
final class ColdStartTests: XCTestCase {
  let d = 5
  let clusters = 4
  let perCluster = 10

  func planted() throws -> (Dataset, LightFM, CSRMatrix, CSRMatrix) {
    var rng = SplitMix64(seed: 21)
    var dataset = Dataset()
    let items = clusters * perCluster
    try dataset.fit(
      users: (0..<8).map { "u\($0)" }, items: (0..<items).map { "i\($0)" },
      userFeatures: (0..<clusters).map { "likes:\($0)" },
      itemFeatures: (0..<clusters).map { "genre:\($0)" })
    let userFeatures = try dataset.buildUserFeatures(
      (0..<8).map { ("u\($0)", ["likes:\($0 % 4)"]) })
    let itemFeatures = try dataset.buildItemFeatures(
      (0..<items).map { ("i\($0)", ["genre:\($0 / 10)"]) })
    var p = ModelParameters(
      noComponents: d, userFeatureCount: dataset.userFeaturesShape.columns,
      itemFeatureCount: dataset.itemFeaturesShape.columns)
    for n in p.users.embeddings.indices {
      p.users.embeddings[n] = Float.random(in: -0.05...0.05, using: &rng)
    }
    for n in p.items.embeddings.indices {
      p.items.embeddings[n] = Float.random(in: -0.05...0.05, using: &rng)
    }
    for c in 0..<clusters {
      var centre = (0..<d).map { _ in Float.random(in: -1...1, using: &rng) }
      let norm = centre.reduce(0) { $0 + $1 * $1 }.squareRoot()
      centre = centre.map { $0 / norm }
      let uf = dataset.userFeatureNames["likes:\(c)"]!
      let itf = dataset.itemFeatureNames["genre:\(c)"]!
      for k in 0..<d {
        p.users.embeddings[uf * d + k] = 2 * centre[k]
        p.items.embeddings[itf * d + k] = centre[k]
      }
    }
    var model = LightFM(noComponents: d)
    model.parameters = p
    return (dataset, model, userFeatures, itemFeatures)
  }

  func testColdStartFeatureRows() throws {
    let (dataset, _, _, _) = try planted()
    let rows = try dataset.coldStartUserFeatures([["likes:1", "likes:3"], ["likes:2"]])
    XCTAssertEqual(rows.shape, MatrixShape(rows: 2, columns: 12))
    XCTAssertEqual(rows.toDense()[0][9], 0.5)
    XCTAssertEqual(rows.toDense()[0][11], 0.5)
    XCTAssertEqual(rows.toDense()[1][10], 1)
    let weighted = try dataset.coldStartItemFeatures(
      [[("genre:0", 2), ("genre:0", 1), ("genre:2", 1)]], normalize: false)
    XCTAssertEqual(weighted.nnz, 2, "repeats are summed")
    XCTAssertEqual(weighted.toDense()[0][40], 3)
    XCTAssertThrowsError(try dataset.coldStartUserFeatures([["likes:9"]])) {
      XCTAssertEqual(($0 as? LightFMError)?.kind, .unknownID)
      XCTAssertTrue("\($0)".contains("'likes:9'"), "\($0)")
    }
    XCTAssertThrowsError(try dataset.coldStartUserFeatures([[String]()])) {
      XCTAssertTrue("\($0)".contains("no features"), "\($0)")
    }
    XCTAssertThrowsError(try dataset.coldStartItemFeatures([[("genre:1", .nan)]])) {
      XCTAssertTrue("\($0)".contains("not finite"), "\($0)")
    }
    XCTAssertEqual(try dataset.coldStartUserFeatures([[String]()], normalize: false).nnz, 0)
  }

  func testRecommendForNewUsersFromFeaturesAlone() throws {
    let (dataset, model, _, itemFeatures) = try planted()
    let newUsers = try dataset.coldStartUserFeatures([["likes:2"], ["likes:0"]])
    let lists = try model.recommendForNewUsers(
      features: newUsers, count: perCluster, itemFeatures: itemFeatures)
    XCTAssertEqual(lists.count, 2)
    XCTAssertTrue(lists[0].allSatisfy { $0.index / perCluster == 2 }, "\(Array(lists[0]))")
    XCTAssertTrue(lists[1].allSatisfy { $0.index / perCluster == 0 }, "\(Array(lists[1]))")
    // Their representations are the sums of their features' embeddings.
    let reps = try model.userRepresentations(features: newUsers)
    let likes2 = dataset.userFeatureNames["likes:2"]!
    XCTAssertEqual(
      Array(reps.embeddings[0..<d]),
      Array(model.parameters!.users.embeddings[(likes2 * d)..<((likes2 + 1) * d)]))
    XCTAssertThrowsError(
      try model.recommendForNewUsers(features: CSRMatrix(emptyRows: 1, columns: 3))
    ) {
      XCTAssertTrue("\($0)".contains("coldStartUserFeatures"), "\($0)")
    }
  }

  func testNewItemRanksMatchBruteForce() throws {
    let (dataset, model, userFeatures, itemFeatures) = try planted()
    let newItems = try dataset.coldStartItemFeatures([["genre:1"], ["genre:3", "genre:0"]])
    // User 1 already knows items 10 and 11, which must not count.
    let excluding = try CSRMatrix(
      COOMatrix(
        rows: 8, columns: 40, rowIndices: [1, 1], columnIndices: [10, 11], values: [1, 1]))
    let users = [1, 5, 0, 3]
    let ranks = try model.newItemRanks(
      features: newItems, users: users, excluding: excluding, userFeatures: userFeatures,
      itemFeatures: itemFeatures)
    let u = try model.userRepresentations(features: userFeatures)
    let catalog = try model.itemRepresentations(features: itemFeatures)
    let fresh = try model.itemRepresentations(features: newItems)
    func score(_ user: Int, _ e: [Float], _ b: [Float], _ i: Int) -> Float {
      var s = u.biases[user] + b[i]
      for k in 0..<d { s += u.embeddings[user * d + k] * e[i * d + k] }
      return s
    }
    for j in 0..<2 {
      for (n, user) in users.enumerated() {
        let target = score(user, fresh.embeddings, fresh.biases, j)
        let expected = (0..<40).filter { i in
          !excluding.contains(row: user, column: i)
            && score(user, catalog.embeddings, catalog.biases, i) >= target
        }.count
        XCTAssertEqual(ranks[j][n], expected, "new item \(j), user \(user)")
      }
    }
    // A genre:1 item is the first pick of the users who like genre 1, far down for others.
    XCTAssertEqual(ranks[0][0], 0)
    XCTAssertEqual(ranks[0][1], 0)
    XCTAssertGreaterThanOrEqual(ranks[0][2], perCluster, "after the liked cluster")
  }

  /// `excluding` may have fewer rows than there are users: the missing rows exclude nothing.
  func testNewItemRanksAcceptShortExclusion() throws {
    let (dataset, model, userFeatures, itemFeatures) = try planted()
    let newItems = try dataset.coldStartItemFeatures([["genre:1"]])
    let short = try CSRMatrix(
      COOMatrix(rows: 2, columns: 40, rowIndices: [1, 1], columnIndices: [10, 11], values: [1, 1]))
    let full = try CSRMatrix(
      COOMatrix(rows: 8, columns: 40, rowIndices: [1, 1], columnIndices: [10, 11], values: [1, 1]))
    let users = [1, 5, 0, 7]
    let got = try model.newItemRanks(
      features: newItems, users: users, excluding: short, userFeatures: userFeatures,
      itemFeatures: itemFeatures)
    let expected = try model.newItemRanks(
      features: newItems, users: users, excluding: full, userFeatures: userFeatures,
      itemFeatures: itemFeatures)
    XCTAssertEqual(got, expected)
  }
}
