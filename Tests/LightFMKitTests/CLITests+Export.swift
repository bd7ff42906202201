import Foundation
import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// `lightfm export` into a directory that already holds files.
extension CLITests {
  /// `export --dir D` never removes a file it did not write: a directory holding other files,
  /// a `model.json` and the model being exported is refused without `--force`, and with it only
  /// the export's own files are replaced.
  func testExportNeverRemovesFilesItDidNotWrite() throws {
    let fitted = try fitSmallModelWithItemGroups("small.lfm")
    XCTAssertEqual(fitted.run.status, 0, fitted.run.stderr)
    let target = directory.appendingPathComponent("mixed")
    try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
    try FileManager.default.copyItem(
      at: directory.appendingPathComponent("small.lfm"),
      to: target.appendingPathComponent("small.lfm"))
    let unrelated: [String: String] = [
      "notes.txt": "my notes\n", "model.json": "{\"mine\": true}\n", "src/main.py": "print()\n",
    ]
    try FileManager.default.createDirectory(
      at: target.appendingPathComponent("src"), withIntermediateDirectories: false)
    for (name, text) in unrelated {
      try Data(text.utf8).write(to: target.appendingPathComponent(name))
    }
    let model = try Data(contentsOf: target.appendingPathComponent("small.lfm"))
    func assertUnrelatedIntact(_ replacedJSON: Bool, line: UInt = #line) throws {
      for (name, text) in unrelated where !(replacedJSON && name == "model.json") {
        XCTAssertEqual(
          try String(contentsOf: target.appendingPathComponent(name), encoding: .utf8), text,
          name, line: line)
      }
      XCTAssertEqual(
        try Data(contentsOf: target.appendingPathComponent("small.lfm")), model, line: line)
    }

    assertFails(
      try lightfm(["export", "--model", "mixed/small.lfm", "--dir", "mixed"]),
      ["mixed", "not empty", "--force"])
    try assertUnrelatedIntact(false)
    XCTAssertFalse(
      FileManager.default.fileExists(
        atPath: target.appendingPathComponent("item_embeddings.npy").path))

    let run = try lightfm(["export", "--model", "mixed/small.lfm", "--dir", "mixed", "--force"])
    XCTAssertEqual(run.status, 0, run.stderr)
    try assertUnrelatedIntact(true)
    let embeddings = try NumpyArray.read(
      from: target.appendingPathComponent("item_embeddings.npy"))
    XCTAssertEqual(embeddings.shape, [12, 8])
    let json = try String(contentsOf: target.appendingPathComponent("model.json"), encoding: .utf8)
    XCTAssertTrue(json.contains("lightfm-export-1"), json)
    // Nothing is left beside the directory.
    let litter = try FileManager.default.contentsOfDirectory(atPath: directory.path)
      .filter { $0.contains("export") }
    XCTAssertEqual(litter, [])
  }
}
