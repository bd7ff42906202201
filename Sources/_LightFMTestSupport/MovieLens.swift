import Foundation
import LightFMKit

/// Locates and reads the MovieLens 100K files in `../shared/data/ml-100k` for tests and benchmarks.
public enum MovieLens {
  /// The folder holding `ua.base`, `ua.test`, `u.item`, `u.user`, or `nil` when it is absent.
  ///
  /// Looks at `$LIGHTFM_ML100K`, then `../shared/data/ml-100k` relative to the working directory and
  /// to this source file's package root.
  public static func directory() -> URL? {
    var candidates: [URL] = []
    if let env = ProcessInfo.processInfo.environment["LIGHTFM_ML100K"] {
      candidates.append(URL(fileURLWithPath: env))
    }
    let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    candidates.append(cwd.appendingPathComponent("../shared/data/ml-100k"))
    let packageRoot = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    candidates.append(packageRoot.appendingPathComponent("../shared/data/ml-100k"))
    for url in candidates {
      let file = url.appendingPathComponent("ua.base").path
      if FileManager.default.fileExists(atPath: file) { return url.standardizedFileURL }
    }
    return nil
  }

  /// The message tests print when they skip for lack of data.
  public static let missingMessage =
    "MovieLens 100K not found: expected ../shared/data/ml-100k (or set LIGHTFM_ML100K)"

  /// One rating line of `u.data`, `ua.base` or `ua.test`.
  public struct Rating: Sendable {
    public let user: Int
    public let item: Int
    public let rating: Float
    public let timestamp: Int
  }

  /// Reads a tab-separated ratings file (user, item, rating, timestamp).
  public static func ratings(_ name: String, in directory: URL) throws -> [Rating] {
    let url = directory.appendingPathComponent(name)
    let text = try String(contentsOf: url, encoding: .utf8)
    var out: [Rating] = []
    for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
      let parts = line.split(separator: "\t")
      guard parts.count == 4, let u = Int(parts[0]), let i = Int(parts[1]),
        let r = Float(parts[2]), let t = Int(parts[3])
      else {
        throw LightFMError.parse(file: url.path, line: n + 1, "expected user, item, rating, time")
      }
      out.append(Rating(user: u, item: i, rating: r, timestamp: t))
    }
    return out
  }

  /// The 943 × 1682 matrix of ratings ≥ `minRating` in a ratings file, 1 at each kept
  /// (user − 1, item − 1): LightFM's MovieLens protocol.
  public static func positives(
    _ name: String, in directory: URL, minRating: Float = 4
  ) throws -> COOMatrix {
    let kept = try ratings(name, in: directory).filter { $0.rating >= minRating }
    return try COOMatrix(
      rows: 943, columns: 1682,
      rowIndices: kept.map { Int32($0.user - 1) },
      columnIndices: kept.map { Int32($0.item - 1) },
      values: [Float](repeating: 1, count: kept.count))
  }

  /// The 19 genre flags of each movie in `u.item` (Latin-1), by 1-based movie id.
  public static func genres(in directory: URL) throws -> [Int: [String]] {
    let url = directory.appendingPathComponent("u.item")
    let text = try String(contentsOf: url, encoding: .isoLatin1)
    let names = [
      "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
      "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
      "Sci-Fi", "Thriller", "War", "Western",
    ]
    var out: [Int: [String]] = [:]
    for (n, line) in text.split(separator: "\n").enumerated() {
      let parts = line.split(separator: "|", omittingEmptySubsequences: false)
      guard parts.count == 24, let id = Int(parts[0]) else {
        throw LightFMError.parse(file: url.path, line: n + 1, "expected 24 '|'-separated fields")
      }
      out[id] = (0..<19).compactMap { parts[5 + $0] == "1" ? "genre:" + names[$0] : nil }
    }
    return out
  }

  /// Each user's demographic features from `u.user`, by user id: `age:<bucket>` (the MovieLens
  /// 1M buckets under 18, 18-24, 25-34, 35-44, 45-49, 50-55, 56+), `gender:<M|F>` and
  /// `occupation:<name>`.
  public static func demographics(in directory: URL) throws -> [Int: [String]] {
    let url = directory.appendingPathComponent("u.user")
    let text = try String(contentsOf: url, encoding: .isoLatin1)
    var out: [Int: [String]] = [:]
    for (n, line) in text.split(separator: "\n").enumerated() {
      let parts = line.split(separator: "|", omittingEmptySubsequences: false)
      guard parts.count == 5, let id = Int(parts[0]), let age = Int(parts[1]) else {
        throw LightFMError.parse(
          file: url.path, line: n + 1, "expected id|age|gender|occupation|zip")
      }
      let bucket: String
      switch age {
      case ..<18: bucket = "under 18"
      case ..<25: bucket = "18-24"
      case ..<35: bucket = "25-34"
      case ..<45: bucket = "35-44"
      case ..<50: bucket = "45-49"
      case ..<56: bucket = "50-55"
      default: bucket = "56+"
      }
      out[id] = ["age:" + bucket, "gender:" + parts[2], "occupation:" + parts[3]]
    }
    return out
  }
}
