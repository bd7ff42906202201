import XCTest

@testable import LightFMKit

/// The one version constant, and the tools that print it.
final class VersionTests: XCTestCase {
  func testVersionIsSemantic() {
    let parts = LightFM.version.split(separator: ".")
    XCTAssertEqual(parts.count, 3, LightFM.version)
    XCTAssertTrue(parts.allSatisfy { Int($0) != nil }, LightFM.version)
  }

  func testChangelogDescribesTheVersion() throws {
    let root = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let changelog = try String(
      contentsOf: root.appendingPathComponent("CHANGELOG.md"), encoding: .utf8)
    XCTAssertTrue(
      changelog.contains("## [\(LightFM.version)]"),
      "CHANGELOG.md has no section for \(LightFM.version)")
  }
}

extension CLITests {
  func testVersionFlagPrintsTheLibraryVersion() throws {
    let run = try lightfm(["--version"])
    XCTAssertEqual(run.status, 0, run.stderr)
    XCTAssertEqual(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines), LightFM.version)
  }
}
