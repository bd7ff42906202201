import XCTest

@testable import LightFMKit

/// Random models and brute-force references for the scoring and evaluation tests.
enum ScoringFixtures {
  /// A deterministic generator for the fixtures.
  struct Rng {
    var base: SplitMix64
    init(state: UInt64) { base = SplitMix64(seed: state) }
    mutating func next() -> UInt64 { base.next() }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }
    /// Multiples of 1/4 in [−1, 1]: products and short sums are exact, so ties are exact.
    mutating func quantized() -> Float { Float(int(9) - 4) * 0.25 }
  }

  /// A model whose parameters are random; `quantized` makes every score exact in Float.
  static func model(
    users: Int, items: Int, d: Int, quantized: Bool, seed: UInt64
  ) -> LightFM {
    var rng = Rng(state: seed)
    var p = ModelParameters(noComponents: d, userFeatureCount: users, itemFeatureCount: items)
    let draw: (inout Rng) -> Float = quantized ? { $0.quantized() } : { $0.uniform() }
    p.users.embeddings = (0..<(users * d)).map { _ in draw(&rng) }
    p.items.embeddings = (0..<(items * d)).map { _ in draw(&rng) }
    p.users.biases = (0..<users).map { _ in draw(&rng) }
    p.items.biases = (0..<items).map { _ in draw(&rng) }
    var model = LightFM(noComponents: d)
    model.parameters = p
    return model
  }

  /// A model with the given user and item embeddings (`d` per row), every bias 0.
  static func model(d: Int, users: [Float], items: [Float]) -> LightFM {
    var p = ModelParameters(
      noComponents: d, userFeatureCount: users.count / d, itemFeatureCount: items.count / d)
    p.users.embeddings = users
    p.items.embeddings = items
    var model = LightFM(noComponents: d)
    model.parameters = p
    return model
  }

  /// A CSR matrix from per-row column lists (values 1).
  static func csr(_ rows: [[Int]], columns: Int) throws -> CSRMatrix {
    var pointers = [0]
    var cols: [Int32] = []
    for r in rows {
      cols.append(contentsOf: r.map { Int32($0) })
      pointers.append(cols.count)
    }
    return try CSRMatrix(
      rows: rows.count, columns: columns, rowPointers: pointers, columnIndices: cols,
      values: [Float](repeating: 1, count: cols.count))
  }

  /// Random sets of items per user, `density` of the catalog on average.
  static func randomRows(
    users: Int, items: Int, density: Double, rng: inout Rng
  ) -> [[Int]] {
    (0..<users).map { _ in
      (0..<items).filter { _ in Double(rng.int(1_000_000)) / 1e6 < density }
    }
  }

  /// s(u, i) in Double, from the representations.
  static func score(
    _ u: Int, _ i: Int, users: (biases: [Float], embeddings: [Float]),
    items: (biases: [Float], embeddings: [Float]), d: Int
  ) -> Double {
    var s = Double(users.biases[u]) + Double(items.biases[i])
    for c in 0..<d {
      s += Double(users.embeddings[u * d + c]) * Double(items.embeddings[i * d + c])
    }
    return s
  }

  /// The brute-force top-k: every allowed item scored, sorted by (score desc, item asc).
  static func bruteTopK(
    _ model: LightFM, users: [Int], k: Int, excluding: [[Int]]?, candidates: [Int]? = nil,
    userFeatures: CSRMatrix? = nil, itemFeatures: CSRMatrix? = nil
  ) throws -> [[(item: Int, score: Double)]] {
    let ur = try model.userRepresentations(features: userFeatures)
    let ir = try model.itemRepresentations(features: itemFeatures)
    let d = model.noComponents
    let itemCount = ir.biases.count
    let allowed = candidates.map(Set.init) ?? Set(0..<itemCount)
    return users.map { u in
      let known = Set(excluding.flatMap { u < $0.count ? $0[u] : [] } ?? [])
      let list = (0..<itemCount).filter { allowed.contains($0) && !known.contains($0) }
        .map { (item: $0, score: score(u, $0, users: ur, items: ir, d: d)) }
        .sorted { ($0.score, -$0.item) > ($1.score, -$1.item) }
      return Array(list.prefix(k))
    }
  }

  /// LightFM's rank of every test entry, by brute force.
  static func bruteRanks(
    _ model: LightFM, test: [[Int]], train: [[Int]]?, items: Int
  ) throws -> [[Int]] {
    let ur = try model.userRepresentations()
    let ir = try model.itemRepresentations()
    let d = model.noComponents
    return test.enumerated().map { u, row in
      let known = Set(train.map { $0[u] } ?? [])
      let scores = (0..<items).map { score(u, $0, users: ur, items: ir, d: d) }
      return row.map { t in
        (0..<items).filter { j in !known.contains(j) && j != t && scores[j] >= scores[t] }.count
      }
    }
  }
}
