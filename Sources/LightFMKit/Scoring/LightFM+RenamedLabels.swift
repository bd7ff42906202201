// MARK: - Old argument labels, kept for one release

// The list length was `k:`, which is also LightFM's k-OS order (`LightFM.k`) and the metric
// cutoff of `Evaluation`; it is `count:` now. These forward to the renamed methods.

extension LightFM {
  /// `recommend(users:count:…)` under its old label.
  @available(*, deprecated, message: "the list length is now count:")
  public func recommend(
    users: [Int]? = nil, k: Int, excluding: CSRMatrix? = nil, candidates: [Int]? = nil,
    userFeatures: CSRMatrix? = nil, itemFeatures: CSRMatrix? = nil, numThreads: Int? = nil,
    engine: ScoringEngine = .blas
  ) throws -> Recommendations {
    try recommend(
      users: users, count: k, excluding: excluding, candidates: candidates,
      userFeatures: userFeatures, itemFeatures: itemFeatures, numThreads: numThreads,
      engine: engine)
  }

  /// `recommendForNewUsers(features:count:…)` under its old label.
  @available(*, deprecated, message: "the list length is now count:")
  public func recommendForNewUsers(
    features: CSRMatrix, k: Int, itemFeatures: CSRMatrix? = nil, candidates: [Int]? = nil,
    numThreads: Int? = nil
  ) throws -> Recommendations {
    try recommendForNewUsers(
      features: features, count: k, itemFeatures: itemFeatures, candidates: candidates,
      numThreads: numThreads)
  }

  /// `similarItems(to:count:itemFeatures:)` under its old label.
  @available(*, deprecated, message: "the list length is now count:")
  public func similarItems(
    to item: Int, k: Int, itemFeatures: CSRMatrix? = nil
  ) throws -> [ScoredIndex] {
    try similarItems(to: item, count: k, itemFeatures: itemFeatures)
  }

  /// `similarItems(to:count:itemFeatures:numThreads:engine:)` under its old label.
  @available(*, deprecated, message: "the list length is now count:")
  public func similarItems(
    to items: [Int], k: Int, itemFeatures: CSRMatrix? = nil, numThreads: Int? = nil,
    engine: ScoringEngine = .blas
  ) throws -> Recommendations {
    try similarItems(
      to: items, count: k, itemFeatures: itemFeatures, numThreads: numThreads, engine: engine)
  }

  /// `similarUsers(to:count:userFeatures:)` under its old label.
  @available(*, deprecated, message: "the list length is now count:")
  public func similarUsers(
    to user: Int, k: Int, userFeatures: CSRMatrix? = nil
  ) throws -> [ScoredIndex] {
    try similarUsers(to: user, count: k, userFeatures: userFeatures)
  }

  /// `similarUsers(to:count:userFeatures:numThreads:engine:)` under its old label.
  @available(*, deprecated, message: "the list length is now count:")
  public func similarUsers(
    to users: [Int], k: Int, userFeatures: CSRMatrix? = nil, numThreads: Int? = nil,
    engine: ScoringEngine = .blas
  ) throws -> Recommendations {
    try similarUsers(
      to: users, count: k, userFeatures: userFeatures, numThreads: numThreads, engine: engine)
  }
}
