import XCTest

@testable import LightFMKit

/// Crafted model files whose checksum is valid: the loader's own checks must reject them with
/// `.corruptModel` before allocating, never trap or build a model that crashes later.
final class ModelFileHardeningTests: XCTestCase {
  /// A small fitted model (d = 2) with identity features on both sides and its dataset.
  func fitted(users: [String] = ["u1", "u2"], items: [String] = ["i1", "i2", "i3"]) throws
    -> SavedModel
  {
    var dataset = Dataset()
    try dataset.fit(users: users, items: items)
    var model = LightFM(noComponents: 2, randomState: 1)
    model.parameters = ModelParameters(
      noComponents: 2, userFeatureCount: users.count, itemFeatureCount: items.count)
    return SavedModel(model: model, dataset: dataset)
  }

  /// The file of `saved` with a valid checksum, whether or not its parts agree.
  func crafted(_ saved: SavedModel) -> [UInt8] { ModelFile.serialize(saved) }

  func assertRejected(
    _ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertThrowsError(try ModelFile.decode(bytes, file: "m.lfm"), file: file, line: line) {
      let error = $0 as? LightFMError
      XCTAssertEqual(error?.kind, .corruptModel, "\($0)", file: file, line: line)
      XCTAssertTrue(
        error?.message.contains(fragment) == true, "'\($0)' lacks '\(fragment)'",
        file: file, line: line)
    }
  }

  func testTheUncraftedModelLoads() throws {
    XCTAssertNoThrow(try ModelFile.decode(crafted(try fitted()), file: "m.lfm"))
  }

  /// d = 2⁶¹ overflows (users + items)·d: an error, not a trap.
  func testComponentsThatOverflowAreRejected() throws {
    var saved = try fitted()
    saved.model.noComponents = 1 << 61
    saved.model.parameters?.noComponents = 1 << 61
    assertRejected(crafted(saved), "more than \(Int.max) bytes")
  }

  /// d = 10⁹ with one feature a side: 24 GB of arrays promised by a file of a few hundred
  /// bytes, refused before allocating.
  func testComponentsBeyondTheFileAreRejected() throws {
    var saved = try fitted(users: ["u"], items: ["i"])
    saved.model.noComponents = 1_000_000_000
    saved.model.parameters?.noComponents = 1_000_000_000
    let bytes = crafted(saved)
    XCTAssertLessThan(bytes.count, 400)
    assertRejected(bytes, "need 24000000120 bytes")
  }

  /// A fitted model with no features, and a dataset with no users or items, are refused: there
  /// is nothing to recommend, and the tools index the first id in their messages.
  func testEmptyModelsAreRejected() throws {
    var saved = try fitted()
    saved.model.parameters = ModelParameters(
      noComponents: 1_000_000_000, userFeatureCount: 0, itemFeatureCount: 0)
    saved.model.noComponents = 1_000_000_000
    saved.dataset = Dataset()
    assertRejected(crafted(saved), "0 user features")

    saved = try fitted(users: ["u"], items: ["i"])
    saved.dataset = Dataset()
    saved.userFeatures = CSRMatrix(emptyRows: 0, columns: 1)
    saved.itemFeatures = CSRMatrix(emptyRows: 0, columns: 1)
    assertRejected(crafted(saved), "0 users and 0 items")
  }

  /// Identity item rows without an id each: `validate` passed it, `recommend` then indexed past
  /// the item ids.
  func testFewerIDsThanIdentityRowsAreRejected() throws {
    var saved = try fitted()
    var dataset = Dataset()
    try dataset.fit(users: ["u1", "u2"], items: ["i1", "i2"], itemFeatures: ["x"])
    saved.dataset = dataset
    assertRejected(crafted(saved), "3 item features and no item-feature matrix")
  }
}
