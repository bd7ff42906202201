/// Train/test splits of an interaction matrix.
///
/// Every split keeps each entry's coordinate and value and the matrix shape; the two halves
/// partition the stored entries. Splits are deterministic for a given `randomState` and entry
/// count, so a weights matrix with the same coordinates splits along the same lines when given
/// the same seed (as in LightFM).
public enum CrossValidation {
  /// Shuffles the stored entries and puts the last `testPercentage` of them in the test set
  /// (LightFM's `random_train_test_split`).
  ///
  /// ```
  /// cutoff = ⌊(1 − testPercentage) · nnz⌋
  /// train = shuffled[..<cutoff],  test = shuffled[cutoff...]
  /// ```
  ///
  /// No attempt is made to keep every user or item in the training half (partial cold start is
  /// possible, as in LightFM). Repeated coordinates are split independently.
  ///
  /// - Parameters:
  ///   - interactions: the entries to split (a weights matrix splits the same way with the same
  ///     seed).
  ///   - testPercentage: the fraction of entries for the test set, in [0, 1].
  ///   - randomState: the seed; `nil` draws one from the system generator.
  /// - Throws: `LightFMError` for a fraction outside [0, 1].
  /// - Complexity: O(nnz).
  public static func randomTrainTestSplit(
    interactions: COOMatrix, testPercentage: Double = 0.2, randomState: UInt64? = nil
  ) throws -> (train: COOMatrix, test: COOMatrix) {
    try checkFraction(testPercentage)
    var rng = SplitRandom(seed: randomState)
    var order = Array(0..<interactions.nnz)
    rng.shuffle(&order)
    let cutoff = trainCount(testPercentage, of: interactions.nnz)
    return (
      take(interactions, order[..<cutoff]),
      take(interactions, order[cutoff...])
    )
  }

  /// Holds out `n` entries of every user: the latest ones when `timestamps` are given, random
  /// ones otherwise.
  ///
  /// Every user keeps at least one training entry: a user with `c ≤ n` entries gives only
  /// `c − 1` of them to the test set (a user with one entry stays in training). Both halves keep
  /// the original entry order.
  ///
  /// - Parameters:
  ///   - interactions: the entries to split, one row per user.
  ///   - n: entries to hold out per user, at least 1.
  ///   - timestamps: one per stored entry (parallel to the COO arrays); ties go to the later
  ///     entry.
  ///   - randomState: the seed for the random choice; `nil` draws one.
  /// - Throws: `LightFMError` for `n` below 1 or a timestamp array of the wrong length.
  /// - Complexity: O(nnz log nnz) with timestamps, O(nnz) without.
  public static func leaveNOutSplit(
    interactions: COOMatrix, n: Int = 1, timestamps: [Int]? = nil, randomState: UInt64? = nil
  ) throws -> (train: COOMatrix, test: COOMatrix) {
    if n < 1 { throw LightFMError.invalidParameter("n", n, expected: "at least 1") }
    if let timestamps { try checkTimestamps(timestamps, interactions) }
    let rows = interactions.shape.rows
    // Group entry positions by user (counting sort keeps the entry order within a user).
    var start = [Int](repeating: 0, count: rows + 1)
    for r in interactions.rowIndices { start[Int(r) + 1] += 1 }
    for r in 0..<rows { start[r + 1] += start[r] }
    var next = start
    var grouped = [Int](repeating: 0, count: interactions.nnz)
    for (e, r) in interactions.rowIndices.enumerated() {
      grouped[next[Int(r)]] = e
      next[Int(r)] += 1
    }
    var rng = SplitRandom(seed: randomState)
    var isTest = [Bool](repeating: false, count: interactions.nnz)
    for r in 0..<rows {
      let lo = start[r]
      let count = start[r + 1] - lo
      let held = min(n, count - 1)
      guard held > 0 else { continue }
      var entries = Array(grouped[lo..<(lo + count)])
      if let timestamps {
        entries.sort { (timestamps[$0], $0) > (timestamps[$1], $1) }
      } else {
        rng.partialShuffle(&entries, first: held)
      }
      for e in entries[..<held] { isTest[e] = true }
    }
    let all = 0..<interactions.nnz
    return (
      take(interactions, all.filter { !isTest[$0] }),
      take(interactions, all.filter { isTest[$0] })
    )
  }

  /// Puts the latest `testPercentage` of the entries (by timestamp) in the test set.
  ///
  /// ```
  /// order entries by (timestamp, position);  cutoff = ⌊(1 − testPercentage) · nnz⌋
  /// ```
  ///
  /// Entries sharing a timestamp at the cutoff are split by their position. Both halves keep the
  /// original entry order.
  ///
  /// - Parameters:
  ///   - interactions: the entries to split.
  ///   - timestamps: one per stored entry, parallel to the COO arrays.
  ///   - testPercentage: the fraction of entries for the test set, in [0, 1].
  /// - Throws: `LightFMError` for a fraction outside [0, 1] or a timestamp array of the wrong
  ///   length.
  /// - Complexity: O(nnz log nnz).
  public static func timestampSplit(
    interactions: COOMatrix, timestamps: [Int], testPercentage: Double = 0.2
  ) throws -> (train: COOMatrix, test: COOMatrix) {
    try checkFraction(testPercentage)
    try checkTimestamps(timestamps, interactions)
    let order = (0..<interactions.nnz).sorted { (timestamps[$0], $0) < (timestamps[$1], $1) }
    let cutoff = trainCount(testPercentage, of: interactions.nnz)
    var isTest = [Bool](repeating: false, count: interactions.nnz)
    for e in order[cutoff...] { isTest[e] = true }
    let all = 0..<interactions.nnz
    return (
      take(interactions, all.filter { !isTest[$0] }),
      take(interactions, all.filter { isTest[$0] })
    )
  }

  /// Splits at a timestamp: entries before `cutoff` train, the rest test.
  ///
  /// - Throws: `LightFMError` for a timestamp array of the wrong length.
  /// - Complexity: O(nnz).
  public static func timestampSplit(
    interactions: COOMatrix, timestamps: [Int], cutoff: Int
  ) throws -> (train: COOMatrix, test: COOMatrix) {
    try checkTimestamps(timestamps, interactions)
    let all = 0..<interactions.nnz
    return (
      take(interactions, all.filter { timestamps[$0] < cutoff }),
      take(interactions, all.filter { timestamps[$0] >= cutoff })
    )
  }

  // MARK: - Helpers

  /// The number of entries that train: `⌊(1 − p) · count⌋`, computed in `Double` as LightFM
  /// does. A `Float` fraction widens 0.2 to 0.2000000030, which can move the cut by one entry
  /// (100 entries would split 79/21, not 80/20).
  static func trainCount(_ p: Double, of count: Int) -> Int {
    Int((1 - p) * Double(count))
  }

  static func checkFraction(_ p: Double) throws {
    guard p.isFinite, p >= 0, p <= 1 else {
      throw LightFMError.invalidParameter("testPercentage", p, expected: "a fraction in [0, 1]")
    }
  }

  static func checkTimestamps(_ timestamps: [Int], _ interactions: COOMatrix) throws {
    guard timestamps.count == interactions.nnz else {
      throw LightFMError.invalidData(
        "got \(timestamps.count) timestamps for \(interactions.nnz) interactions: expected one "
          + "per stored entry")
    }
  }

  /// The entries at `positions`, in that order, as a matrix of the same shape.
  static func take(_ m: COOMatrix, _ positions: some Collection<Int>) -> COOMatrix {
    COOMatrix(
      uncheckedShape: m.shape,
      rowIndices: positions.map { m.rowIndices[$0] },
      columnIndices: positions.map { m.columnIndices[$0] },
      values: positions.map { m.values[$0] })
  }
}

/// The splits' generator: `SplitMix64`, seeded from the system generator without a seed.
///
/// Shuffles use an explicit Fisher–Yates with Lemire's bounded draw, so a seed gives the same
/// split on every platform and Swift version.
struct SplitRandom {
  private var base: SplitMix64

  init(seed: UInt64?) {
    var system = SystemRandomNumberGenerator()
    base = SplitMix64(seed: seed ?? system.next())
  }

  mutating func next() -> UInt64 { base.next() }

  /// A uniform integer in 0..<n (n ≥ 1).
  mutating func below(_ n: Int) -> Int {
    let bound = UInt64(n)
    var product = next().multipliedFullWidth(by: bound)
    if product.low < bound {
      let threshold = (0 &- bound) % bound
      while product.low < threshold {
        product = next().multipliedFullWidth(by: bound)
      }
    }
    return Int(product.high)
  }

  /// Fisher–Yates over the whole array.
  mutating func shuffle(_ a: inout [Int]) {
    partialShuffle(&a, first: a.count)
  }

  /// Puts a uniform random choice of `first` elements, in random order, at the front.
  mutating func partialShuffle(_ a: inout [Int], first: Int) {
    let n = a.count
    for i in 0..<min(first, max(n - 1, 0)) {
      let j = i + below(n - i)
      a.swapAt(i, j)
    }
  }
}
