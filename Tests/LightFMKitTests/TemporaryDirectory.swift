import Foundation
import XCTest

extension XCTestCase {
  /// A new empty directory `<prefix>-<UUID>` in the system's temporary directory, removed with
  /// its contents when the current test ends.
  func makeTemporaryDirectory(_ prefix: String) throws -> URL {
    let fm = FileManager.default
    let url = fm.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try fm.createDirectory(at: url, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
  }
}
