import Foundation
import XCTest

@testable import LightFMKit

/// `.lfm` model files: exact round trips, atomic writes, and clear errors for damaged files.
final class ModelFileTests: XCTestCase {
  var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("lightfm-model-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  /// A model with every parameter and accumulator set to distinct values (NaN-free, some
  /// subnormal and negative zero, to check bit patterns), and the dataset that fits it: identity
  /// user features (saved without a matrix), item features besides the identity ones.
  func makeSaved() throws -> SavedModel {
    var dataset = Dataset()
    try dataset.fit(
      users: ["u1", "ü2", "u 3"], items: ["i1", "i2"],
      itemFeatures: ["genre|Drama", "genre,Comedy"])
    var model = LightFM(
      noComponents: 3, k: 4, n: 7, learningSchedule: .adadelta, loss: .warpKOS,
      learningRate: 0.03, rho: 0.9, epsilon: 1e-5, itemAlpha: 1e-4, userAlpha: 2e-4,
      maxSampled: 25, randomState: 42)
    var p = ModelParameters(
      noComponents: 3, userFeatureCount: dataset.userFeatureNames.count,
      itemFeatureCount: dataset.itemFeatureNames.count)
    var generator = SystemRandomNumberGenerator()
    func fill(_ a: inout [Float]) {
      for n in a.indices { a[n] = Float.random(in: -1...1, using: &generator) }
      if a.count > 1 {
        a[0] = -0.0
        a[1] = .leastNonzeroMagnitude
      }
    }
    for (side, array) in SideArray.fileOrder { fill(&p[side][array]) }
    model.parameters = p
    let itemFeatures = try dataset.buildItemFeatures([
      ("i1", [("genre|Drama", Float(1))]), ("i2", [("genre,Comedy", 2), ("genre|Drama", 1)]),
    ])
    return SavedModel(model: model, dataset: dataset, itemFeatures: itemFeatures)
  }

  func bits(_ p: ModelParameters) -> [[UInt32]] {
    SideArray.fileOrder.map { side, array in p[side][array].map(\.bitPattern) }
  }

  func testRoundTripIsBitForBit() throws {
    let saved = try makeSaved()
    let url = directory.appendingPathComponent("m.lfm")
    try saved.model.save(to: url, dataset: saved.dataset, itemFeatures: saved.itemFeatures)
    let loaded = try LightFM.load(from: url)
    let (a, b) = (saved.model, loaded.model)
    XCTAssertEqual(b.noComponents, a.noComponents)
    XCTAssertEqual(b.k, a.k)
    XCTAssertEqual(b.n, a.n)
    XCTAssertEqual(b.learningSchedule, a.learningSchedule)
    XCTAssertEqual(b.loss, a.loss)
    XCTAssertEqual(b.learningRate, a.learningRate)
    XCTAssertEqual(b.rho, a.rho)
    XCTAssertEqual(b.epsilon, a.epsilon)
    XCTAssertEqual(b.itemAlpha, a.itemAlpha)
    XCTAssertEqual(b.userAlpha, a.userAlpha)
    XCTAssertEqual(b.maxSampled, a.maxSampled)
    XCTAssertEqual(b.randomState, a.randomState)
    XCTAssertTrue(
      bits(try XCTUnwrap(b.parameters)) == bits(try XCTUnwrap(a.parameters)), "arrays differ")
    let (d, e) = (try XCTUnwrap(saved.dataset), try XCTUnwrap(loaded.dataset))
    XCTAssertEqual(e.userIDs.ids, d.userIDs.ids)
    XCTAssertEqual(e.itemIDs.ids, d.itemIDs.ids)
    XCTAssertEqual(e.userFeatureNames.ids, d.userFeatureNames.ids)
    XCTAssertEqual(e.itemFeatureNames.ids, d.itemFeatureNames.ids)
    XCTAssertEqual(e.userIdentityFeatures, d.userIdentityFeatures)
    XCTAssertEqual(e.itemIdentityFeatures, d.itemIdentityFeatures)
    XCTAssertNil(loaded.userFeatures)
    XCTAssertEqual(loaded.itemFeatures, saved.itemFeatures)
    // Saving the loaded model gives the same bytes.
    XCTAssertEqual(try ModelFile.encode(loaded), try ModelFile.encode(saved))
  }

  /// A trained hybrid model: two planted groups of users and items, items with group features.
  func trainedModel(loss: LightFM.Loss) throws -> (LightFM, Dataset, CSRMatrix, COOMatrix) {
    var dataset = Dataset()
    let users = (0..<20).map { "u\($0)" }
    let items = (0..<30).map { "i\($0)" }
    try dataset.fit(users: users, items: items, itemFeatures: ["even", "odd"])
    var pairs: [(String, String)] = []
    for u in 0..<20 {
      for i in 0..<30 where i % 2 == u % 2 && (i + u) % 3 != 0 {
        pairs.append((users[u], items[i]))
      }
    }
    let interactions = try dataset.buildInteractions(pairs).interactions
    let features = try dataset.buildItemFeatures(
      items.enumerated().map { ($0.element, [$0.offset % 2 == 0 ? "even" : "odd"]) })
    var model = LightFM(noComponents: 6, learningSchedule: .adadelta, loss: loss, randomState: 9)
    try model.fit(interactions, itemFeatures: features, epochs: 3, numThreads: 1)
    return (model, dataset, features, interactions)
  }

  func testTrainedModelPredictsAndContinuesBitForBitAfterLoad() throws {
    for loss in [LightFM.Loss.warp, .logistic] {
      var (model, dataset, features, interactions) = try trainedModel(loss: loss)
      let url = directory.appendingPathComponent("trained-\(loss).lfm")
      try model.save(to: url, dataset: dataset, itemFeatures: features)
      var loaded = try LightFM.load(from: url)
      XCTAssertEqual(loaded.itemFeatures, features)
      let users = (0..<20).flatMap { [Int](repeating: $0, count: 30) }
      let items = (0..<20).flatMap { _ in Array(0..<30) }
      let before = try model.predict(userIds: users, itemIds: items, itemFeatures: features)
      let after = try loaded.model.predict(
        userIds: users, itemIds: items, itemFeatures: loaded.itemFeatures)
      XCTAssertTrue(after.map(\.bitPattern) == before.map(\.bitPattern), "\(loss): predictions")
      let listsBefore = try model.recommend(count: 5, itemFeatures: features, numThreads: 1)
      let listsAfter = try loaded.model.recommend(
        count: 5, itemFeatures: loaded.itemFeatures, numThreads: 1)
      XCTAssertEqual(Array(listsAfter.joined()), Array(listsBefore.joined()))
      // One more epoch from the file continues exactly as one more epoch in memory.
      try model.fitPartial(interactions, itemFeatures: features, epochs: 1, numThreads: 1)
      try loaded.model.fitPartial(interactions, itemFeatures: features, epochs: 1, numThreads: 1)
      let continued = bits(try XCTUnwrap(loaded.model.parameters))
      XCTAssertTrue(continued == bits(try XCTUnwrap(model.parameters)), "\(loss): diverged")
    }
  }

  func testUnfittedModelWithoutDatasetRoundTrips() throws {
    let url = directory.appendingPathComponent("u.lfm")
    try LightFM(noComponents: 8, loss: .bpr).save(to: url, dataset: nil)
    let loaded = try LightFM.load(from: url)
    XCTAssertFalse(loaded.model.isFitted)
    XCTAssertEqual(loaded.model.loss, .bpr)
    XCTAssertNil(loaded.model.randomState)
    XCTAssertNil(loaded.dataset)
  }

  func testSaveRejectsAMismatchedDataset() throws {
    let saved = try makeSaved()
    var other = Dataset()
    try other.fit(users: ["a"], items: ["b"])
    XCTAssertThrowsError(
      try saved.model.save(to: directory.appendingPathComponent("x.lfm"), dataset: other))
    XCTAssertFalse(
      FileManager.default.fileExists(atPath: directory.appendingPathComponent("x.lfm").path))
  }

  func assertCorrupt(
    _ bytes: [UInt8], contains fragment: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertThrowsError(try ModelFile.decode(bytes, file: "m.lfm"), file: file, line: line) {
      guard let error = $0 as? LightFMError else {
        return XCTFail("not a LightFMError: \($0)", file: file, line: line)
      }
      XCTAssertEqual(error.kind, .corruptModel, file: file, line: line)
      XCTAssertTrue(error.message.hasPrefix("m.lfm: "), error.message, file: file, line: line)
      XCTAssertTrue(
        error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'",
        file: file, line: line)
    }
  }

  func testDamagedFilesAreClearErrors() throws {
    let bytes = try ModelFile.encode(try makeSaved())
    assertCorrupt([], contains: "empty")
    assertCorrupt(Array("user\titem\n".utf8), contains: "not a lightfm model")
    for length in [4, 12, 19, 20, bytes.count / 2, bytes.count - 1] {
      assertCorrupt(Array(bytes[0..<length]), contains: "truncated")
    }
    assertCorrupt(bytes + [0], contains: "unexpected bytes")
    for offset in stride(from: 20, to: bytes.count, by: 13) {
      var damaged = bytes
      damaged[offset] ^= 0x10
      assertCorrupt(damaged, contains: "checksum")
    }
    var newer = bytes
    newer[8] = 2
    assertCorrupt(newer, contains: "version 2")
    assertCorrupt(newer, contains: "upgrade")
  }

  func testFailedSaveKeepsThePreviousFile() throws {
    let saved = try makeSaved()
    let url = directory.appendingPathComponent("keep.lfm")
    try saved.model.save(to: url, dataset: saved.dataset, itemFeatures: saved.itemFeatures)
    let before = try Data(contentsOf: url)
    // The destination cannot be replaced (it is now a non-empty directory): the save fails.
    let blocked = directory.appendingPathComponent("blocked.lfm")
    try FileManager.default.createDirectory(
      at: blocked.appendingPathComponent("inside"), withIntermediateDirectories: true)
    XCTAssertThrowsError(
      try saved.model.save(to: blocked, dataset: saved.dataset, itemFeatures: saved.itemFeatures))
    // A missing directory is an error naming the file.
    let missing = directory.appendingPathComponent("no/such/dir/m.lfm")
    XCTAssertThrowsError(try saved.model.save(to: missing, dataset: nil)) {
      XCTAssertTrue("\($0)".contains(missing.path), "\($0)")
    }
    XCTAssertEqual(try Data(contentsOf: url), before)
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    XCTAssertEqual(names, ["blocked.lfm", "keep.lfm"])
  }
}
