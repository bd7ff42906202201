import XCTest

@testable import LightFMKit

final class DatasetTests: XCTestCase {
  func testQuickstartInteractions() throws {
    var dataset = Dataset()
    try dataset.fit(
      users: ["user_1", "user_2", "user_3"], items: ["item_A", "item_B", "item_C", "item_D"])
    let (interactions, weights) = try dataset.buildInteractions([
      ("user_1", "item_A", 1), ("user_1", "item_C", 1), ("user_2", "item_B", 1),
      ("user_2", "item_C", 1), ("user_3", "item_A", 1), ("user_3", "item_B", 1),
      ("user_3", "item_D", 1),
    ])
    XCTAssertEqual(interactions.shape, MatrixShape(rows: 3, columns: 4))
    XCTAssertEqual("\(interactions.shape)", "3 x 4")
    XCTAssertEqual(interactions.toDense(), [[1, 0, 1, 0], [0, 1, 1, 0], [1, 1, 0, 1]])
    XCTAssertEqual(weights.toDense(), interactions.toDense())
    XCTAssertEqual(dataset.mapping().userIdMap["user_1"], 0)
    XCTAssertEqual(dataset.mapping().itemIdMap["item_D"], 3)
  }

  func testPairsAndWeightedDuplicates() throws {
    var dataset = Dataset()
    try dataset.fit(users: [1, 2], items: [10, 20, 30])
    let (interactions, weights) = try dataset.buildInteractions([
      (1, 10, Float(2)), (2, 30, 0.5), (1, 10, 3),
    ])
    XCTAssertEqual(interactions.toDense(), [[1, 0, 0], [0, 0, 1]])
    XCTAssertEqual(weights.toDense(), [[5, 0, 0], [0, 0, 0.5]])
    let (pairs, pairWeights) = try dataset.buildInteractions([(2, 20), (2, 20)])
    XCTAssertEqual(pairs.nnz, 1)
    XCTAssertEqual(pairWeights.values, [2])
    // Integer ids and their text are the same id.
    XCTAssertEqual(dataset.mapping().userIdMap["2"], 1)
    XCTAssertEqual(dataset.mapping().userIdMap[2], 1)
  }

  /// LightFM's documentation example: 3 users with 4 features, 3 items with 3 features.
  func testFeatureExampleShapesIdentityFirstAndNormalised() throws {
    var dataset = Dataset()
    try dataset.fit(
      users: ["u1", "u2", "u3"], items: ["i1", "i2", "i3"],
      userFeatures: ["age:young", "age:old", "country:uk", "country:us"],
      itemFeatures: ["genre:drama", "genre:comedy", "year:2000"])
    let userFeatures = try dataset.buildUserFeatures([
      ("u1", ["age:young", "country:uk"]), ("u2", ["age:old"]), ("u3", ["country:us"]),
    ])
    let itemFeatures = try dataset.buildItemFeatures([
      ("i1", ["genre:drama": 1, "year:2000": 2]), ("i2", ["genre:comedy": 1]),
    ])
    XCTAssertEqual(userFeatures.shape, MatrixShape(rows: 3, columns: 7))
    XCTAssertEqual(itemFeatures.shape, MatrixShape(rows: 3, columns: 6))
    let users = userFeatures.toDense()
    XCTAssertEqual(users[0], [1.0 / 3, 0, 0, 1.0 / 3, 0, 1.0 / 3, 0])
    XCTAssertEqual(users[1], [0, 0.5, 0, 0, 0.5, 0, 0])
    let items = itemFeatures.toDense()
    XCTAssertEqual(items[0], [0.25, 0, 0, 0.25, 0, 0.5])
    XCTAssertEqual(items[2], [0, 0, 1, 0, 0, 0])
    for row in users + items { XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-6) }
    let mapping = dataset.mapping()
    XCTAssertEqual(mapping.userFeatureMap["u1"], 0)
    XCTAssertEqual(mapping.userFeatureMap["age:young"], 3)
    XCTAssertEqual(mapping.itemFeatureMap["year:2000"], 5)
    XCTAssertEqual(mapping.userFeaturesShape, MatrixShape(rows: 3, columns: 7))
    let raw = try dataset.buildUserFeatures([("u1", ["age:young"])], normalize: false)
    XCTAssertEqual(raw.toDense()[0], [1, 0, 0, 1, 0, 0, 0])
  }

  func testFitPartialAppendsAfterExistingFeatures() throws {
    var dataset = Dataset()
    try dataset.fit(users: ["a"], items: ["x"], userFeatures: ["f"])
    try dataset.fitPartial(users: ["b", "a"], items: ["y"])
    let mapping = dataset.mapping()
    XCTAssertEqual(mapping.userIdMap.ids, ["a", "b"])
    XCTAssertEqual(mapping.userFeatureMap.ids, ["a", "f", "b"])
    XCTAssertEqual(mapping.itemFeatureMap.ids, ["x", "y"])
    try dataset.fitPartial(items: ["z"])
    XCTAssertEqual(dataset.interactionsShape, MatrixShape(rows: 2, columns: 3))
  }

  func testWithoutIdentityFeatures() throws {
    var dataset = Dataset(userIdentityFeatures: false, itemIdentityFeatures: false)
    try dataset.fit(users: ["a", "b"], items: ["x"], userFeatures: ["f", "g"], itemFeatures: ["h"])
    let features = try dataset.buildUserFeatures([("a", ["f"]), ("b", ["f", "g"])])
    XCTAssertEqual(features.toDense(), [[1, 0], [0.5, 0.5]])
    assertError(try dataset.buildUserFeatures([("a", ["f"])]), contains: "user 'b' has no features")
    assertError(try dataset.buildItemFeatures([(String, [String])]()), contains: "item 'x'")
    XCTAssertNoThrow(try dataset.buildItemFeatures([(String, [String])](), normalize: false))
  }

  func testUnknownIdsAndFeaturesAreNamed() throws {
    var dataset = Dataset()
    try dataset.fit(users: ["a"], items: ["x"], userFeatures: ["f"], itemFeatures: ["g"])
    assertError(try dataset.buildInteractions([("a", "nope")]), contains: "unknown item id 'nope'")
    assertError(try dataset.buildInteractions([("who", "x")]), contains: "unknown user id 'who'")
    assertError(
      try dataset.buildUserFeatures([("a", ["missing"])]), contains: "unknown user feature 'missing'")
    assertError(try dataset.buildItemFeatures([("y", ["g"])]), contains: "unknown item id 'y'")
    assertError(
      try dataset.buildInteractions([("a", "x", Float.nan)]), contains: "is not finite")
    assertError(try dataset.fitPartial(users: [""]), contains: "user id is empty")
    assertError(
      try dataset.fitPartial(users: ["b"], userFeatures: ["a"]),
      contains: "user feature 'a' has the same name as a user id")
    assertError(try dataset.fitPartial(users: ["f"]), contains: "user id 'f' is also the name")
  }
}
