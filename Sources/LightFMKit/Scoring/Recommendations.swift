// MARK: - Top-k results

/// One entry of a top-k list: a row index and its score.
///
/// The index is an item for `recommend`, `recommendForNewUsers` and `similarItems`, and a user
/// for `similarUsers`.
public struct ScoredIndex: Equatable, Hashable, Sendable {
  /// The row index: an item (or user, for `similarUsers`) of the feature matrix, or of the
  /// model's items (users) with identity features.
  public let index: Int
  /// s(u, i) = b_u + b_i + p_u · q_i (cosine similarity for `similarItems`/`similarUsers`).
  public let score: Float

  /// An entry of `index` with `score`.
  public init(index: Int, score: Float) {
    self.index = index
    self.score = score
  }

  /// The entry's index, under its old name (it holds a user in `similarUsers`).
  @available(*, deprecated, renamed: "index")
  public var item: Int { index }

  /// An entry of `item` with `score` (old spelling of `init(index:score:)`).
  @available(*, deprecated, renamed: "init(index:score:)")
  public init(item: Int, score: Float) {
    self.init(index: item, score: score)
  }
}

/// The old name of `ScoredIndex`.
@available(*, deprecated, renamed: "ScoredIndex")
public typealias ScoredItem = ScoredIndex

/// The top-k lists of a batch of queries: one list per requested user (or item), best first.
///
/// Lists are slices of one flat buffer, so a batch of 100,000 users costs one allocation.
/// Ties are broken towards the lower index, so results are deterministic.
public struct Recommendations: RandomAccessCollection, Sendable {
  /// The queried rows, in the order of the lists.
  public let queries: [Int]
  /// The longest a list can be: the requested list length.
  public let maxCount: Int
  let storage: [ScoredIndex]
  let counts: [Int32]

  init(queries: [Int], k: Int, storage: [ScoredIndex], counts: [Int32]) {
    precondition(storage.count == queries.count * k && counts.count == queries.count)
    self.queries = queries
    self.maxCount = k
    self.storage = storage
    self.counts = counts
  }

  /// The longest a list can be (old name of `maxCount`).
  @available(*, deprecated, renamed: "maxCount")
  public var k: Int { maxCount }

  /// 0.
  public var startIndex: Int { 0 }
  /// The number of queries.
  public var endIndex: Int { queries.count }

  /// The list of the `position`-th query (not of user `position`, unless all users were asked).
  public subscript(position: Int) -> RecommendationList {
    let start = position * maxCount
    return RecommendationList(storage: storage[start..<(start + Int(counts[position]))])
  }
}

/// One query's top-k list, best first, indexed from 0 (a view into the batch's buffer).
public struct RecommendationList: RandomAccessCollection, Equatable, Sendable {
  let storage: ArraySlice<ScoredIndex>

  /// 0.
  public var startIndex: Int { 0 }
  /// The list's length.
  public var endIndex: Int { storage.count }

  /// The `position`-th best entry.
  public subscript(position: Int) -> ScoredIndex {
    storage[storage.startIndex + position]
  }

  /// Whether both lists hold the same entries in the same order.
  public static func == (a: RecommendationList, b: RecommendationList) -> Bool {
    a.storage.elementsEqual(b.storage)
  }
}
