import XCTest

@testable import LightFMKit

/// The same mistake made through every public entry point gives the same `LightFMError`.
final class InputCheckTests: XCTestCase {
  let users = 3
  let items = 4

  /// The errors of `calls`, which must all throw.
  func errors(
    _ calls: [(String, () throws -> Void)], file: StaticString = #filePath, line: UInt = #line
  ) -> [String: LightFMError] {
    var out: [String: LightFMError] = [:]
    for (name, call) in calls {
      do {
        try call()
        XCTFail("\(name) did not throw", file: file, line: line)
      } catch let error as LightFMError {
        out[name] = error
      } catch {
        XCTFail("\(name) threw \(error)", file: file, line: line)
      }
    }
    return out
  }

  func assertAllEqual(
    _ errors: [String: LightFMError], to expected: LightFMError,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    for (name, error) in errors.sorted(by: { $0.key < $1.key }) {
      XCTAssertEqual(error, expected, name, file: file, line: line)
    }
  }

  func dataset() throws -> Dataset {
    var dataset = Dataset()
    try dataset.fit(users: (0..<users).map { "u\($0)" }, items: (0..<items).map { "i\($0)" })
    return dataset
  }

  /// One interaction per user.
  func interactions() throws -> CSRMatrix {
    try ScoringFixtures.csr((0..<users).map { [$0] }, columns: items)
  }

  func testNotFittedIsOneError() throws {
    var model = LightFM(noComponents: 2)
    let x = try interactions()
    let dataset = try dataset()
    let newUsers = CSRMatrix(emptyRows: 1, columns: users)
    let newItems = CSRMatrix(emptyRows: 1, columns: items)
    var generator = SystemRandomNumberGenerator()
    let found = errors([
      ("predict(userIds:)", { _ = try model.predict(userIds: [0], itemIds: [0]) }),
      ("predict(user:)", { _ = try model.predict(user: 0, items: [0]) }),
      ("predictRank", { _ = try model.predictRank(x) }),
      ("recommend", { _ = try model.recommend() }),
      ("similarItems(to: Int)", { _ = try model.similarItems(to: 0) }),
      ("similarItems(to: [Int])", { _ = try model.similarItems(to: [0]) }),
      ("similarUsers(to: Int)", { _ = try model.similarUsers(to: 0) }),
      ("similarUsers(to: [Int])", { _ = try model.similarUsers(to: [0]) }),
      ("userRepresentations", { _ = try model.userRepresentations() }),
      ("itemRepresentations", { _ = try model.itemRepresentations() }),
      ("recommendForNewUsers", { _ = try model.recommendForNewUsers(features: newUsers) }),
      ("newItemRanks", { _ = try model.newItemRanks(features: newItems) }),
      ("foldInRepresentations", { _ = try model.foldInRepresentations(interactions: x) }),
      ("foldIn", {
        try model.foldIn(users: [0], interactions: x, dataset: dataset, using: &generator)
      }),
      ("grow", { try model.grow(to: dataset) }),
      ("numpyArrays", { _ = try model.numpyArrays() }),
    ])
    XCTAssertEqual(found.count, 16)
    assertAllEqual(found, to: LightFMError.notFitted)
  }

  func testUserIndexOutOfRangeIsOneError() throws {
    var model = ScoringFixtures.model(users: users, items: items, d: 2, quantized: true, seed: 3)
    let x = try interactions()
    let dataset = try dataset()
    let newItems = CSRMatrix(emptyRows: 1, columns: items)
    var generator = SystemRandomNumberGenerator()
    let found = errors([
      ("predict(userIds:)", { _ = try model.predict(userIds: [5], itemIds: [0]) }),
      ("predict(user:)", { _ = try model.predict(user: 5, items: [0]) }),
      ("recommend", { _ = try model.recommend(users: [5]) }),
      ("similarUsers(to: Int)", { _ = try model.similarUsers(to: 5) }),
      ("similarUsers(to: [Int])", { _ = try model.similarUsers(to: [5]) }),
      ("newItemRanks", { _ = try model.newItemRanks(features: newItems, users: [5]) }),
      ("foldIn", {
        try model.foldIn(users: [5], interactions: x, dataset: dataset, using: &generator)
      }),
    ])
    XCTAssertEqual(found.count, 7)
    let expected = try XCTUnwrap(found["recommend"])
    XCTAssertEqual(expected.kind, .unknownID)
    XCTAssertTrue(expected.message.contains("user index 5"), expected.message)
    assertAllEqual(found, to: expected)
  }

  func testItemFeatureMatrixOfTheWrongWidthIsOneError() throws {
    var model = ScoringFixtures.model(users: users, items: items, d: 2, quantized: true, seed: 3)
    let x = try interactions()
    let dataset = try dataset()
    let wide = CSRMatrix(emptyRows: items, columns: items + 1)
    let newUsers = CSRMatrix(emptyRows: 1, columns: users)
    var generator = SystemRandomNumberGenerator()
    let found = errors([
      ("predict", { _ = try model.predict(user: 0, items: [0], itemFeatures: wide) }),
      ("predictRank", { _ = try model.predictRank(x, itemFeatures: wide) }),
      ("recommend", { _ = try model.recommend(itemFeatures: wide) }),
      ("similarItems", { _ = try model.similarItems(to: 0, itemFeatures: wide) }),
      ("itemRepresentations", { _ = try model.itemRepresentations(features: wide) }),
      ("recommendForNewUsers", {
        _ = try model.recommendForNewUsers(features: newUsers, itemFeatures: wide)
      }),
      ("newItemRanks(features:)", { _ = try model.newItemRanks(features: wide) }),
      ("newItemRanks(itemFeatures:)", {
        _ = try model.newItemRanks(
          features: CSRMatrix(emptyRows: 1, columns: self.items), itemFeatures: wide)
      }),
      ("foldInRepresentations", {
        _ = try model.foldInRepresentations(interactions: x, itemFeatures: wide)
      }),
      ("foldIn", {
        try model.foldIn(
          users: [0], interactions: x, dataset: dataset, itemFeatures: wide,
          using: &generator)
      }),
      ("fitPartial", { try model.fitPartial(x, itemFeatures: wide, epochs: 1) }),
    ])
    XCTAssertEqual(found.count, 11)
    let expected = try XCTUnwrap(found["recommend"])
    XCTAssertEqual(expected.kind, .invalidData)
    XCTAssertTrue(expected.message.contains("5 columns"), expected.message)
    assertAllEqual(found, to: expected)
  }
}
