import Foundation
import LightFMKit

/// Synthetic implicit-feedback data with power-law item popularity and a planted low-rank
/// structure, for tests (small sizes) and benchmarks (100K users × 50K items × ~10M interactions).
///
/// The generative model. Every user u belongs to one of C clusters c(u), every item i to one of
/// C clusters c(i); item i has popularity π_i = (1 + r_i)^(−s) where r_i is a random popularity
/// rank. A user's interactions are drawn without repetition from
///
/// ```
/// P(i | u) = ρ · π_i [c(i) = c(u)] / Z_c(u)  +  (1 − ρ) · π_i / Z
/// ```
///
/// so the expected user × item matrix has rank at most C + 1: a factorisation model with d ≥ C
/// components can learn it, and a popularity-only model cannot (its AUC stays far lower). User
/// activity is Pareto-distributed (shape 2.5) around the mean `interactions / users`.
///
/// Generation is deterministic for a seed, whatever the number of threads: each user has its own
/// generator seeded from (seed, u). Items are drawn with Walker/Vose alias tables, O(1) per draw.
///
/// - Complexity: O(users + items + interactions · log(interactions per user)).
public enum Synthetic {
  /// The sizes and shape parameters of a synthetic data set.
  public struct Configuration: Sendable, Equatable, Codable {
    public var users: Int
    public var items: Int
    /// The target number of distinct interactions (train + test); the result is close to it.
    public var interactions: Int
    /// C, the number of planted clusters (the planted rank is at most C + 1).
    public var clusters: Int
    /// s, the power-law exponent of item popularity.
    public var popularityExponent: Double
    /// ρ, the probability that a draw comes from the user's own cluster.
    public var inClusterProbability: Double
    /// The expected fraction of each user's interactions held out as test entries.
    public var testFraction: Double
    public var seed: UInt64

    public init(
      users: Int, items: Int, interactions: Int,
      clusters: Int = 16, popularityExponent: Double = 0.8, inClusterProbability: Double = 0.8,
      testFraction: Double = 0.2, seed: UInt64 = 42
    ) {
      self.users = users
      self.items = items
      self.interactions = interactions
      self.clusters = clusters
      self.popularityExponent = popularityExponent
      self.inClusterProbability = inClusterProbability
      self.testFraction = testFraction
      self.seed = seed
    }

    /// The benchmark's default: 100,000 users × 50,000 items, about 10,000,000 interactions.
    public static let benchmark = Configuration(
      users: 100_000, items: 50_000, interactions: 10_000_000)

    /// A test-sized set: 1,000 users × 500 items, about 30,000 interactions.
    public static let small = Configuration(users: 1_000, items: 500, interactions: 30_000)
  }

  /// A generated data set: disjoint train and test interactions (value 1) and the planted truth.
  public struct DataSet: Sendable {
    public let configuration: Configuration
    /// Train interactions, sorted by user then item, every value 1.
    public let train: COOMatrix
    /// Held-out interactions, sorted by user then item, every value 1; disjoint from `train`.
    public let test: COOMatrix
    /// c(u) for every user.
    public let userClusters: [Int32]
    /// c(i) for every item.
    public let itemClusters: [Int32]
    /// π_i for every item (not normalised).
    public let itemPopularity: [Double]
  }

  /// Generates the data set described by `configuration`.
  ///
  /// - Precondition: positive sizes, `clusters ≤ items`, ρ and the test fraction in [0, 1).
  public static func generate(_ configuration: Configuration) -> DataSet {
    let c = configuration
    precondition(c.users > 0 && c.items > 0 && c.interactions > 0, "sizes must be positive")
    precondition(c.clusters >= 1 && c.clusters <= c.items, "need 1 ≤ clusters ≤ items")
    precondition(c.users <= Int(Int32.max) && c.items <= Int(Int32.max))
    precondition((0..<1).contains(c.inClusterProbability), "ρ must be in [0, 1)")
    precondition((0..<1).contains(c.testFraction), "test fraction must be in [0, 1)")

    // Items: a random popularity rank and a cluster each.
    var rng = SplitMix64(seed: c.seed)
    var ranks = Array(0..<c.items)
    for i in stride(from: c.items - 1, to: 0, by: -1) {
      ranks.swapAt(i, Int(rng.next() % UInt64(i + 1)))
    }
    let popularity = ranks.map { pow(Double($0 + 1), -c.popularityExponent) }
    let itemClusters = (0..<c.items).map { i -> Int32 in
      // Every cluster gets at least one item: the first C items are dealt round-robin.
      i < c.clusters ? Int32(i) : Int32(rng.next() % UInt64(c.clusters))
    }
    let userClusters = (0..<c.users).map { _ in Int32(rng.next() % UInt64(c.clusters)) }

    let global = AliasTable(weights: popularity)
    var clusterItems = [[Int32]](repeating: [], count: c.clusters)
    for i in 0..<c.items { clusterItems[Int(itemClusters[i])].append(Int32(i)) }
    let members = clusterItems
    let perCluster = members.map { AliasTable(weights: $0.map { popularity[Int($0)] }) }

    // Users in parallel chunks; each user's generator depends only on (seed, u).
    let chunkCount = min(c.users, max(1, ProcessInfo.processInfo.activeProcessorCount) * 8)
    let mean = Double(c.interactions) / Double(c.users)
    let chunks = ChunkResults(count: chunkCount)
    DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
      let lo = c.users * chunk / chunkCount
      let hi = c.users * (chunk + 1) / chunkCount
      var part = ChunkResults.Part()
      var drawn: [Int32] = []
      for u in lo..<hi {
        var rng = SplitMix64(seed: c.seed ^ (UInt64(u) &* 0x9E37_79B9_7F4A_7C15) ^ 0x5EED)
        let target = activity(mean: mean, maxCount: c.items / 2, rng: &rng)
        let cluster = Int(userClusters[u])
        let own = members[cluster]
        drawn.removeAll(keepingCapacity: true)
        // Draw, deduplicate, top up: a few rounds suffice except for users wanting more
        // items than their popularity mass allows, who end a little short.
        for _ in 0..<8 where drawn.count < target {
          for _ in drawn.count..<target {
            if rng.nextUnit() < c.inClusterProbability {
              drawn.append(own[perCluster[cluster].sample(&rng)])
            } else {
              drawn.append(Int32(global.sample(&rng)))
            }
          }
          drawn.sort()
          drawn = deduplicated(drawn)
        }
        var trainCount = 0
        for item in drawn {
          // Keep at least one train entry per user.
          let isTest = trainCount > 0 && rng.nextUnit() < c.testFraction
          if isTest {
            part.testUsers.append(Int32(u))
            part.testItems.append(item)
          } else {
            part.trainUsers.append(Int32(u))
            part.trainItems.append(item)
            trainCount += 1
          }
        }
      }
      chunks.store(part, at: chunk)
    }
    let parts = chunks.parts
    func matrix(_ users: KeyPath<ChunkResults.Part, [Int32]>,
                _ items: KeyPath<ChunkResults.Part, [Int32]>) -> COOMatrix {
      let rows = Array(parts.map { $0[keyPath: users] }.joined())
      let cols = Array(parts.map { $0[keyPath: items] }.joined())
      // The generator produced valid indices; the checked init only costs one pass.
      return try! COOMatrix(
        rows: c.users, columns: c.items, rowIndices: rows, columnIndices: cols,
        values: [Float](repeating: 1, count: rows.count))
    }
    return DataSet(
      configuration: c,
      train: matrix(\.trainUsers, \.trainItems),
      test: matrix(\.testUsers, \.testItems),
      userClusters: userClusters,
      itemClusters: itemClusters,
      itemPopularity: popularity)
  }

  /// A Pareto(2.5) activity level with the given mean, at least 2 and at most `maxCount`.
  static func activity(mean: Double, maxCount: Int, rng: inout SplitMix64) -> Int {
    let shape = 2.5
    let scale = mean * (shape - 1) / shape
    let u = max(rng.nextUnit(), 1e-12)
    let count = Int((scale / pow(u, 1 / shape)).rounded())
    return max(2, min(max(2, maxCount), count))
  }

  static func deduplicated(_ sorted: [Int32]) -> [Int32] {
    var out = sorted
    var n = 0
    for (index, value) in sorted.enumerated() where index == 0 || value != sorted[index - 1] {
      out[n] = value
      n += 1
    }
    out.removeLast(out.count - n)
    return out
  }
}

// MARK: - Parallel results

/// One slot per chunk, each written by exactly one `concurrentPerform` iteration under a lock.
private final class ChunkResults: @unchecked Sendable {
  struct Part {
    var trainUsers: [Int32] = []
    var trainItems: [Int32] = []
    var testUsers: [Int32] = []
    var testItems: [Int32] = []
  }

  private var storage: [Part]
  private let lock = NSLock()

  init(count: Int) { storage = Array(repeating: Part(), count: count) }

  func store(_ part: Part, at index: Int) {
    lock.lock()
    storage[index] = part
    lock.unlock()
  }

  var parts: [Part] {
    lock.lock()
    defer { lock.unlock() }
    return storage
  }
}

// MARK: - Alias sampling

/// Walker's alias method (Vose's construction): O(n) to build, O(1) per draw.
struct AliasTable: Sendable {
  private var probability: [Double]
  private var alias: [Int32]

  init(weights: [Double]) {
    let n = weights.count
    precondition(n > 0, "an alias table needs at least one weight")
    let total = weights.reduce(0, +)
    var scaled = weights.map { $0 * Double(n) / total }
    probability = [Double](repeating: 1, count: n)
    alias = Array(0..<Int32(n))
    var small: [Int] = []
    var large: [Int] = []
    for (i, p) in scaled.enumerated() {
      if p < 1 { small.append(i) } else { large.append(i) }
    }
    while let s = small.popLast(), let l = large.popLast() {
      probability[s] = scaled[s]
      alias[s] = Int32(l)
      scaled[l] = scaled[l] + scaled[s] - 1
      if scaled[l] < 1 { small.append(l) } else { large.append(l) }
    }
    // Leftovers are 1 up to rounding.
  }

  /// An index drawn with probability proportional to its weight.
  @inline(__always)
  func sample(_ rng: inout SplitMix64) -> Int {
    let r = rng.next()
    let n = UInt64(probability.count)
    let column = Int((r >> 32) % n)
    let coin = Double(r & 0xFFFF_FFFF) * 0x1p-32
    return coin < probability[column] ? column : Int(alias[column])
  }
}
