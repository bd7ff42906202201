import Foundation
import XCTest

/// The `lightfm` tool as a subprocess of the end-to-end tests (`CLITests`, `FaultTests`,
/// `HostileInputTests`): where it is, and what it left in its working directory.
enum LightFMSubprocess {
  /// The `lightfm` executable built beside the test bundle; skips the test when it is missing.
  static func executable() throws -> URL {
    var candidates: [URL] = []
    if let bundle = Bundle.main.executableURL?.deletingLastPathComponent() {
      candidates.append(bundle.appendingPathComponent("lightfm"))
    }
    let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    candidates.append(argv0.appendingPathComponent("lightfm"))
    candidates.append(argv0.deletingLastPathComponent().appendingPathComponent("lightfm"))
    for url in Bundle.allBundles.map(\.bundleURL) {
      candidates.append(url.deletingLastPathComponent().appendingPathComponent("lightfm"))
    }
    let built = candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    guard let found = built else {
      throw XCTSkip("the lightfm executable was not built beside the tests (swift build first)")
    }
    return found
  }

  /// Whether the tool runs under the address or thread sanitizer (`scripts/sanitize`), which
  /// reserve terabytes of address space and multiply the resident memory: the memory bounds are
  /// then lifted.
  static let sanitized = ["ASAN_OPTIONS", "TSAN_OPTIONS"].contains {
    ProcessInfo.processInfo.environment[$0] != nil
  }

  /// Every entry of `directory` with its size, modification time and (for a regular file)
  /// content: equal snapshots mean the tool created, changed and deleted nothing there.
  static func snapshot(of directory: URL) throws -> [String: Data] {
    var files: [String: Data] = [:]
    let fm = FileManager.default
    for name in try fm.contentsOfDirectory(atPath: directory.path) {
      let url = directory.appendingPathComponent(name)
      let attributes = try fm.attributesOfItem(atPath: url.path)
      let stamp = "\(attributes[.size] ?? 0) \(attributes[.modificationDate] ?? 0)"
      let isFile = attributes[.type] as? FileAttributeType == .typeRegular
      files[name] = Data(stamp.utf8) + (isFile ? try Data(contentsOf: url) : Data())
    }
    return files
  }
}
