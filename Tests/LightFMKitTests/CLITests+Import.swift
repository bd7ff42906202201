import Foundation
import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// `lightfm import`: the directory `lightfm export` writes reads back into the same model.
extension CLITests {
  func assertRoundTrip(
    _ model: String, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    var run = try lightfm(["export", "--model", model, "--dir", "\(model).export"])
    XCTAssertEqual(run.status, 0, run.stderr, file: file, line: line)
    run = try lightfm(["import", "--dir", "\(model).export", "--model", "back-\(model)"])
    XCTAssertEqual(run.status, 0, run.stderr, file: file, line: line)

    let original = try LightFM.load(from: directory.appendingPathComponent(model))
    let imported = try LightFM.load(from: directory.appendingPathComponent("back-\(model)"))
    XCTAssertTrue(
      original.model.parameters == imported.model.parameters, "parameters differ",
      file: file, line: line)
    for path in [\LightFM.noComponents, \.k, \.n, \.maxSampled] {
      XCTAssertEqual(original.model[keyPath: path], imported.model[keyPath: path], file: file,
        line: line)
    }
    for path in [\LightFM.learningRate, \.rho, \.epsilon, \.userAlpha, \.itemAlpha] {
      XCTAssertEqual(original.model[keyPath: path], imported.model[keyPath: path], file: file,
        line: line)
    }
    XCTAssertEqual(original.model.loss, imported.model.loss, file: file, line: line)
    XCTAssertEqual(
      original.model.learningSchedule, imported.model.learningSchedule, file: file, line: line)
    let (a, b) = (try XCTUnwrap(original.dataset), try XCTUnwrap(imported.dataset))
    XCTAssertEqual(a.userIDs, b.userIDs, file: file, line: line)
    XCTAssertEqual(a.itemIDs, b.itemIDs, file: file, line: line)
    XCTAssertEqual(a.userFeatureNames, b.userFeatureNames, file: file, line: line)
    XCTAssertEqual(a.itemFeatureNames, b.itemFeatureNames, file: file, line: line)
    XCTAssertEqual(original.userFeatures, imported.userFeatures, file: file, line: line)
    XCTAssertEqual(original.itemFeatures, imported.itemFeatures, file: file, line: line)

    // Byte-identical predictions: every user's whole list, scores printed in full.
    let top = "\(a.itemIDs.count)"
    let before = try lightfm(["recommend", "--model", model, "--top", top])
    let after = try lightfm(["recommend", "--model", "back-\(model)", "--top", top])
    XCTAssertEqual(before.status, 0, before.stderr, file: file, line: line)
    XCTAssertFalse(before.stdout.isEmpty, file: file, line: line)
    XCTAssertEqual(before.stdout, after.stdout, "recommendations differ", file: file, line: line)
  }

  func testExportThenImportGivesTheSameModel() throws {
    var fitted = try fitSmallModel("plain.lfm", ["--epochs", "5", "--components", "4"])
    XCTAssertEqual(fitted.run.status, 0, fitted.run.stderr)
    try assertRoundTrip("plain.lfm")
    fitted = try fitSmallModelWithItemGroups("groups.lfm")
    XCTAssertEqual(fitted.run.status, 0, fitted.run.stderr)
    try assertRoundTrip("groups.lfm")
    XCTAssertTrue(exists("groups.lfm.export/item_feature_matrix.npz"))
    XCTAssertFalse(exists("groups.lfm.export/user_feature_matrix.npz"), "identity: no matrix")
    fitted = try fitSmallModel(
      "adadelta.lfm", ["--epochs", "3", "--schedule", "adadelta", "--loss", "bpr"])
    XCTAssertEqual(fitted.run.status, 0, fitted.run.stderr)
    try assertRoundTrip("adadelta.lfm")
  }

  func testImportNamesWhatIsMissingOrInconsistent() throws {
    let fitted = try fitSmallModelWithItemGroups("groups.lfm")
    XCTAssertEqual(fitted.run.status, 0, fitted.run.stderr)
    let run = try lightfm(["export", "--model", "groups.lfm", "--dir", "d"])
    XCTAssertEqual(run.status, 0, run.stderr)
    let manager = FileManager.default
    try manager.moveItem(atPath: path("d/item_feature_matrix.npz"), toPath: path("matrix.npz"))
    assertFails(
      try lightfm(["import", "--dir", "d", "--model", "m.lfm"]),
      ["item_feature_matrix.npz is missing", "12 features for 10 ids"])
    try manager.moveItem(atPath: path("matrix.npz"), toPath: path("d/item_feature_matrix.npz"))
    try manager.removeItem(atPath: path("d/user_biases.npy"))
    assertFails(
      try lightfm(["import", "--dir", "d", "--model", "m.lfm"]), ["user_biases array is missing"])
    XCTAssertFalse(exists("m.lfm"))
    assertFails(try lightfm(["import", "--dir", "nowhere", "--model", "m.lfm"]), ["nowhere"])
  }
}

/// `LightFM.setParameters(numpyArrays:)`, the library half of `lightfm import`.
final class NumpyImportTests: XCTestCase {
  /// Without the optimiser state, `setParameters` starts it as a fresh fit does, and
  /// `numpyArrays` then gives back what was set.
  func testSetParametersTakesWhatNumpyArraysGives() throws {
    let x = try COOMatrix(
      rows: 3, columns: 4, rowIndices: [0, 1, 2, 2], columnIndices: [0, 1, 2, 3],
      values: [1, 1, 1, 1])
    var model = LightFM(noComponents: 3, loss: .warp, randomState: 1)
    try model.fit(x, epochs: 2)
    var copy = LightFM(noComponents: 3, loss: .warp)
    try copy.setParameters(numpyArrays: Dictionary(uniqueKeysWithValues: try model.numpyArrays()))
    XCTAssertTrue(copy.parameters == model.parameters)

    let learned = try model.numpyArrays().filter { !$0.name.contains("_gradients") }
    var partial = LightFM(noComponents: 3, learningSchedule: .adagrad)
    try partial.setParameters(numpyArrays: Dictionary(uniqueKeysWithValues: learned))
    XCTAssertEqual(partial.parameters?.items.embeddingGradients, [Float](repeating: 1, count: 12))
    XCTAssertEqual(partial.parameters?.items.embeddings, model.parameters?.items.embeddings)

    var wrong = LightFM(noComponents: 4)
    XCTAssertThrowsError(
      try wrong.setParameters(numpyArrays: Dictionary(uniqueKeysWithValues: learned))
    ) { error in
      XCTAssertTrue("\(error)".contains("user_embeddings has shape [3, 3]"), "\(error)")
    }
    XCTAssertFalse(wrong.isFitted)
  }
}
