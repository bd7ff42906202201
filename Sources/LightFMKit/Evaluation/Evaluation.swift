#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Ranking metrics for a fitted model, with LightFM's semantics.
///
/// Every metric starts from `LightFM.predictRank`: the rank of each test item among the items the
/// user did not train on (other test items included, 0 best). Each function returns one value
/// per user; users without test items are dropped unless `preserveRows` is set. The `ranks:`
/// variants compute a metric from ranks already computed, so several metrics cost one ranking.
public enum Evaluation {
  // MARK: - From a model

  /// The fraction of the top `k` positions held by test items, per user.
  ///
  /// ```
  /// precision@k(u) = #{ i ∈ test(u) : rank(u, i) < k } / k
  /// ```
  ///
  /// - Throws: `LightFMError` as `LightFM.predictRank` does, or for `k` below 1.
  /// - Complexity: one `predictRank`.
  public static func precisionAtK(
    _ model: LightFM,
    testInteractions: some InteractionMatrix,
    trainInteractions: (any InteractionMatrix)? = nil,
    k: Int = 10,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    preserveRows: Bool = false,
    numThreads: Int? = nil,
    checkIntersections: Bool = true,
    engine: ScoringEngine = .blas
  ) throws -> [Float] {
    let ranked = try rank(
      model, testInteractions, trainInteractions, k: k, userFeatures, itemFeatures, numThreads,
      checkIntersections, engine)
    return precisionAtK(ranks: ranked.ranks, k: k, preserveRows: preserveRows)
  }

  /// The fraction of each user's test items that reach the top `k`.
  ///
  /// ```
  /// recall@k(u) = #{ i ∈ test(u) : rank(u, i) < k } / |test(u)|
  /// ```
  ///
  /// A kept user without test items gets 0 (LightFM documents 0 and computes 0/0).
  public static func recallAtK(
    _ model: LightFM,
    testInteractions: some InteractionMatrix,
    trainInteractions: (any InteractionMatrix)? = nil,
    k: Int = 10,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    preserveRows: Bool = false,
    numThreads: Int? = nil,
    checkIntersections: Bool = true,
    engine: ScoringEngine = .blas
  ) throws -> [Float] {
    let ranked = try rank(
      model, testInteractions, trainInteractions, k: k, userFeatures, itemFeatures, numThreads,
      checkIntersections, engine)
    return recallAtK(ranks: ranked.ranks, k: k, preserveRows: preserveRows)
  }

  /// The area under the ROC curve per user: the probability that a test item outranks an item
  /// the user neither trained nor tested on.
  ///
  /// ```
  /// P = |test(u)|   N = items − P − |train(u)|
  /// r_0 ≤ r_1 ≤ …  the test items' ranks, sorted;   r'_i = max(0, r_i − i)
  /// AUC(u) = (1/P) Σ_i (1 − r'_i / N)
  /// ```
  ///
  /// 0.5 for a user with no test items, and (unlike LightFM, which divides by zero) for a user
  /// with no negatives left.
  public static func aucScore(
    _ model: LightFM,
    testInteractions: some InteractionMatrix,
    trainInteractions: (any InteractionMatrix)? = nil,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    preserveRows: Bool = false,
    numThreads: Int? = nil,
    checkIntersections: Bool = true,
    engine: ScoringEngine = .blas
  ) throws -> [Float] {
    let ranked = try rank(
      model, testInteractions, trainInteractions, k: 1, userFeatures, itemFeatures, numThreads,
      checkIntersections, engine)
    return aucScore(
      ranks: ranked.ranks, trainInteractions: ranked.train, preserveRows: preserveRows)
  }

  /// The reciprocal rank of each user's best-ranked test item.
  ///
  /// ```
  /// RR(u) = max_{i ∈ test(u)} 1 / (rank(u, i) + 1)
  /// ```
  public static func reciprocalRank(
    _ model: LightFM,
    testInteractions: some InteractionMatrix,
    trainInteractions: (any InteractionMatrix)? = nil,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    preserveRows: Bool = false,
    numThreads: Int? = nil,
    checkIntersections: Bool = true,
    engine: ScoringEngine = .blas
  ) throws -> [Float] {
    let ranked = try rank(
      model, testInteractions, trainInteractions, k: 1, userFeatures, itemFeatures, numThreads,
      checkIntersections, engine)
    return reciprocalRank(ranks: ranked.ranks, preserveRows: preserveRows)
  }

  /// Normalised discounted cumulative gain at `k`, binary relevance (not in LightFM).
  ///
  /// ```
  /// DCG@k(u)  = Σ_{i ∈ test(u), rank(u,i) < k} 1 / log2(rank(u, i) + 2)
  /// IDCG@k(u) = Σ_{j < min(k, |test(u)|)} 1 / log2(j + 2)
  /// NDCG@k(u) = DCG@k(u) / IDCG@k(u)
  /// ```
  public static func ndcgAtK(
    _ model: LightFM,
    testInteractions: some InteractionMatrix,
    trainInteractions: (any InteractionMatrix)? = nil,
    k: Int = 10,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    preserveRows: Bool = false,
    numThreads: Int? = nil,
    checkIntersections: Bool = true,
    engine: ScoringEngine = .blas
  ) throws -> [Float] {
    let ranked = try rank(
      model, testInteractions, trainInteractions, k: k, userFeatures, itemFeatures, numThreads,
      checkIntersections, engine)
    return ndcgAtK(ranks: ranked.ranks, k: k, preserveRows: preserveRows)
  }

  /// 1 when at least one test item reaches the top `k`, else 0 (not in LightFM).
  public static func hitRateAtK(
    _ model: LightFM,
    testInteractions: some InteractionMatrix,
    trainInteractions: (any InteractionMatrix)? = nil,
    k: Int = 10,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    preserveRows: Bool = false,
    numThreads: Int? = nil,
    checkIntersections: Bool = true,
    engine: ScoringEngine = .blas
  ) throws -> [Float] {
    let ranked = try rank(
      model, testInteractions, trainInteractions, k: k, userFeatures, itemFeatures, numThreads,
      checkIntersections, engine)
    return hitRateAtK(ranks: ranked.ranks, k: k, preserveRows: preserveRows)
  }

  /// Average precision at `k` per user; its mean over the users is MAP@k (not in LightFM).
  ///
  /// ```
  /// hits(u, r) = #{ j ∈ test(u) : rank(u, j) ≤ r }
  /// AP@k(u) = Σ_{i ∈ test(u), rank(u,i) < k} (hits(u, rank(u, i)) / (rank(u, i) + 1))
  ///           / min(k, |test(u)|)
  /// ```
  ///
  /// Each test item in the top k contributes the precision at its own position. The
  /// denominator is min(k, |test(u)|), the most hits the top k can hold, so a perfect ranking
  /// scores 1 whether a user has fewer or more than k test items. Ties count against every tied
  /// item, as in `predictRank`. A kept user without test items gets 0.
  public static func averagePrecisionAtK(
    _ model: LightFM,
    testInteractions: some InteractionMatrix,
    trainInteractions: (any InteractionMatrix)? = nil,
    k: Int = 10,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    preserveRows: Bool = false,
    numThreads: Int? = nil,
    checkIntersections: Bool = true,
    engine: ScoringEngine = .blas
  ) throws -> [Float] {
    let ranked = try rank(
      model, testInteractions, trainInteractions, k: k, userFeatures, itemFeatures, numThreads,
      checkIntersections, engine)
    return averagePrecisionAtK(ranks: ranked.ranks, k: k, preserveRows: preserveRows)
  }

  /// Every metric of this enumeration from one `predictRank` pass: what the functions above
  /// compute one by one, at the cost of one of them, plus the catalog coverage of the top-k
  /// lists from the same score tiles.
  ///
  /// - Parameters: as `precisionAtK`; `k` is the cut-off of the @k metrics and the length of
  ///   the lists behind `coverage`. `popularity` ranks by scores without the item biases or
  ///   with a popularity penalty (`PopularityControl`), in the same pass.
  /// - Throws: `LightFMError` as `LightFM.predictRank` does, or for `k` below 1.
  /// - Complexity: one `predictRank` (plus a top-k selection per user), then O(nnz(test) log)
  ///   for the metrics.
  public static func metrics(
    _ model: LightFM,
    testInteractions: some InteractionMatrix,
    trainInteractions: (any InteractionMatrix)? = nil,
    k: Int = 10,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    preserveRows: Bool = false,
    numThreads: Int? = nil,
    checkIntersections: Bool = true,
    popularity: PopularityControl = .none,
    engine: ScoringEngine = .blas
  ) throws -> RankingMetrics {
    let ranked = try rank(
      model, testInteractions, trainInteractions, k: k, userFeatures, itemFeatures, numThreads,
      checkIntersections, engine, popularity: popularity, listLength: k)
    var metrics = RankingMetrics(
      ranks: ranked.ranks, trainInteractions: ranked.train, k: k, preserveRows: preserveRows)
    let catalog = ranked.ranks.shape.columns
    metrics.coverage = catalog > 0 ? Double(ranked.listedItems) / Double(catalog) : 0
    return metrics
  }

  /// The one ranking behind every model-taking function (arguments as theirs): the checks, one
  /// `rankAndList`, and the train matrix it excluded, which AUC needs.
  private static func rank(
    _ model: LightFM, _ test: some InteractionMatrix, _ train: (any InteractionMatrix)?, k: Int,
    _ userFeatures: CSRMatrix?, _ itemFeatures: CSRMatrix?, _ numThreads: Int?,
    _ checkIntersections: Bool, _ engine: ScoringEngine, popularity: PopularityControl = .none,
    listLength: Int = 0
  ) throws -> (ranks: CSRMatrix, listedItems: Int, train: CSRMatrix?) {
    try checkK(k)
    let train = train?.interactionsCSR()
    let ranked = try model.rankAndList(
      test.interactionsCSR(), train: train, userFeatures: userFeatures,
      itemFeatures: itemFeatures, numThreads: numThreads,
      checkIntersections: checkIntersections, popularity: popularity, listLength: listLength,
      engine: engine)
    return (ranked.ranks, ranked.listedItems, train)
  }

  // MARK: - From ranks

  /// precision@k from `LightFM.predictRank`'s output.
  public static func precisionAtK(
    ranks: CSRMatrix, k: Int, preserveRows: Bool = false
  ) -> [Float] {
    perUser(ranks, preserveRows: preserveRows) { row in
      Float(hits(row, k)) / Float(k)
    }
  }

  /// recall@k from `LightFM.predictRank`'s output.
  public static func recallAtK(ranks: CSRMatrix, k: Int, preserveRows: Bool = false) -> [Float] {
    perUser(ranks, preserveRows: preserveRows) { row in
      row.isEmpty ? 0 : Float(hits(row, k)) / Float(row.count)
    }
  }

  /// Reciprocal rank from `LightFM.predictRank`'s output (0 for a kept user without test items).
  public static func reciprocalRank(ranks: CSRMatrix, preserveRows: Bool = false) -> [Float] {
    perUser(ranks, preserveRows: preserveRows) { row in
      row.reduce(Float(0)) { max($0, 1 / ($1 + 1)) }
    }
  }

  /// NDCG@k from `LightFM.predictRank`'s output (0 for a kept user without test items).
  public static func ndcgAtK(ranks: CSRMatrix, k: Int, preserveRows: Bool = false) -> [Float] {
    perUser(ranks, preserveRows: preserveRows) { row in
      guard !row.isEmpty else { return 0 }
      var dcg = 0.0
      for r in row where r < Float(k) { dcg += 1 / log2(Double(r) + 2) }
      var ideal = 0.0
      for j in 0..<min(k, row.count) { ideal += 1 / log2(Double(j) + 2) }
      return Float(dcg / ideal)
    }
  }

  /// AP@k (see `averagePrecisionAtK(_:testInteractions:…)`) from `LightFM.predictRank`'s
  /// output.
  public static func averagePrecisionAtK(
    ranks: CSRMatrix, k: Int, preserveRows: Bool = false
  ) -> [Float] {
    perUser(ranks, preserveRows: preserveRows, sorted: true) { sorted in
      guard !sorted.isEmpty else { return 0 }
      // With the ranks sorted, rank r_j has j + 1 test items at or above it (ties included).
      var total = 0.0
      var j = sorted.startIndex
      while j < sorted.endIndex && sorted[j] < Float(k) {
        var hits = j + 1
        while hits < sorted.endIndex && sorted[hits] == sorted[j] { hits += 1 }
        total += Double(hits - sorted.startIndex) / (Double(sorted[j]) + 1)
        j += 1
      }
      return Float(total / Double(min(k, sorted.count)))
    }
  }

  /// Hit rate@k from `LightFM.predictRank`'s output.
  public static func hitRateAtK(ranks: CSRMatrix, k: Int, preserveRows: Bool = false) -> [Float] {
    perUser(ranks, preserveRows: preserveRows) { row in hits(row, k) > 0 ? 1 : 0 }
  }

  /// AUC from `LightFM.predictRank`'s output and the training matrix the ranks excluded.
  public static func aucScore(
    ranks: CSRMatrix, trainInteractions: CSRMatrix?, preserveRows: Bool = false
  ) -> [Float] {
    let items = ranks.shape.columns
    var user = -1
    return perUser(
      ranks, preserveRows: preserveRows, sorted: true, rowIndex: { user = $0 }
    ) { sorted in
      let p = sorted.count
      let trained =
        trainInteractions.map { user < $0.shape.rows ? $0.rowCount(user) : 0 } ?? 0
      let negatives = items - p - trained
      guard p > 0, negatives > 0 else { return 0.5 }
      var total = 0.0
      for (i, r) in sorted.enumerated() {
        let above = max(0, Double(r) - Double(i))
        total += 1 - above / Double(negatives)
      }
      return Float(total / Double(p))
    }
  }

  // MARK: - Helpers

  static func checkK(_ k: Int) throws {
    if k < 1 { throw LightFMError.invalidParameter("k", k, expected: "at least 1") }
  }

  @inline(__always)
  static func hits(_ row: ArraySlice<Float>, _ k: Int) -> Int {
    var n = 0
    for r in row where r < Float(k) { n += 1 }
    return n
  }

  /// Applies `metric` to each row's ranks, keeping rows without entries only if asked; with
  /// `sorted`, to the ranks in ascending order (one scratch buffer for all the rows).
  static func perUser(
    _ ranks: CSRMatrix, preserveRows: Bool, sorted: Bool = false,
    rowIndex: (Int) -> Void = { _ in }, _ metric: (ArraySlice<Float>) -> Float
  ) -> [Float] {
    var out: [Float] = []
    out.reserveCapacity(ranks.shape.rows)
    var scratch: [Float] = []
    for u in 0..<ranks.shape.rows {
      var row = ranks.row(u).values
      if row.isEmpty && !preserveRows { continue }
      if sorted {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: row)
        scratch.sort()
        row = scratch[...]
      }
      rowIndex(u)
      out.append(metric(row))
    }
    return out
  }
}

/// Every ranking metric of `Evaluation` from one ranking, one value per user (the users with
/// test items, or every row with `preserveRows`), in row order.
public struct RankingMetrics: Sendable, Equatable {
  /// The cut-off of the @k metrics.
  public var k: Int
  /// The test interactions ranked (stored entries of the test matrix).
  public var testInteractions: Int
  /// Precision@k per user, as `Evaluation.precisionAtK(ranks:k:preserveRows:)`.
  public var precisionAtK: [Float]
  /// Recall@k per user, as `Evaluation.recallAtK(ranks:k:preserveRows:)`.
  public var recallAtK: [Float]
  /// AUC per user, as `Evaluation.aucScore(ranks:trainInteractions:preserveRows:)`.
  public var auc: [Float]
  /// The reciprocal rank of the best-ranked test item per user, as
  /// `Evaluation.reciprocalRank(ranks:preserveRows:)`.
  public var reciprocalRank: [Float]
  /// NDCG@k per user (binary relevance), as `Evaluation.ndcgAtK(ranks:k:preserveRows:)`.
  public var ndcgAtK: [Float]
  /// 1 for a user with a test item in the top k, 0 otherwise, as
  /// `Evaluation.hitRateAtK(ranks:k:preserveRows:)`.
  public var hitRateAtK: [Float]
  /// Average precision at k per user (`Evaluation.averagePrecisionAtK`); the mean is MAP@k.
  public var averagePrecisionAtK: [Float]
  /// The number of users the values belong to.
  public var users: Int
  /// Catalog coverage: the distinct items in the top-k lists (training items left out) of the
  /// users with test items, over the number of items. `nil` when computed from ranks alone
  /// (the lists need the scores): `Evaluation.metrics` fills it.
  public var coverage: Double?

  /// The metrics of `LightFM.predictRank`'s output and the training matrix it excluded.
  public init(
    ranks: CSRMatrix, trainInteractions: CSRMatrix?, k: Int, preserveRows: Bool = false
  ) {
    self.k = k
    testInteractions = ranks.nnz
    let keep = preserveRows
    precisionAtK = Evaluation.precisionAtK(ranks: ranks, k: k, preserveRows: keep)
    recallAtK = Evaluation.recallAtK(ranks: ranks, k: k, preserveRows: keep)
    auc = Evaluation.aucScore(
      ranks: ranks, trainInteractions: trainInteractions, preserveRows: keep)
    reciprocalRank = Evaluation.reciprocalRank(ranks: ranks, preserveRows: keep)
    ndcgAtK = Evaluation.ndcgAtK(ranks: ranks, k: k, preserveRows: keep)
    hitRateAtK = Evaluation.hitRateAtK(ranks: ranks, k: k, preserveRows: keep)
    averagePrecisionAtK = Evaluation.averagePrecisionAtK(ranks: ranks, k: k, preserveRows: keep)
    users = precisionAtK.count  // one value per kept user, as every metric
  }

  /// The mean of one metric over the users, in Double (NaN without users).
  public func mean(_ metric: KeyPath<RankingMetrics, [Float]>) -> Double {
    let values = self[keyPath: metric]
    return values.isEmpty ? .nan : values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
  }
}
