// MARK: - Growing the parameters

extension ModelParameters {
  /// Appends freshly initialised feature rows so that there are `userFeatureCount` user and
  /// `itemFeatureCount` item features; every existing value is kept, bit for bit.
  ///
  /// New rows start as at the first `fit`: embeddings uniform in [−0.5/d, 0.5/d), biases 0,
  /// Adagrad's accumulators 1, Adadelta's 0 (ARCHITECTURE.md §3.2). Rows are appended, so the
  /// index of every existing feature is unchanged, which is how `Dataset.fitPartial` numbers new
  /// features.
  ///
  /// - Complexity: O((new features)·d) plus the copy of each array when it must reallocate.
  mutating func grow(
    userFeatureCount newUsers: Int, itemFeatureCount newItems: Int,
    schedule: LightFM.LearningSchedule, using generator: inout some RandomNumberGenerator
  ) {
    precondition(newUsers >= userFeatureCount && newItems >= itemFeatureCount, "growth only adds")
    users.grow(to: newUsers, d: noComponents, schedule: schedule, using: &generator)
    items.grow(to: newItems, d: noComponents, schedule: schedule, using: &generator)
  }
}

extension SideParameters {
  /// Appends freshly initialised rows up to `featureCount` features (see
  /// `ModelParameters.grow`).
  mutating func grow(
    to newCount: Int, d: Int, schedule: LightFM.LearningSchedule,
    using generator: inout some RandomNumberGenerator
  ) {
    let added = newCount - featureCount
    for array in SideArray.allCases {
      let count = array.perComponent ? added * d : added
      if let start = array.initialValue(schedule) {
        self[array] += repeatElement(start, count: count)
      } else {
        Self.appendUniform(&self[array], count: count, d: d, using: &generator)
      }
    }
    featureCount = newCount
  }

  /// Appends `count` values uniform in [−0.5/d, 0.5/d), as LightFM's `(rand − 0.5) / d`, with
  /// `rand` from `unitFloat()` (not the standard library's `Float.random`, whose algorithm
  /// may change between Swift releases: a seed must mean the same model on every toolchain).
  private static func appendUniform(
    _ array: inout [Float], count: Int, d: Int, using generator: inout some RandomNumberGenerator
  ) {
    array.reserveCapacity(array.count + count)
    let scale = 1 / Float(d)
    for _ in 0..<count {
      array.append((generator.unitFloat() - 0.5) * scale)
    }
  }
}

// MARK: - Growing a fitted model

extension LightFM {
  /// Grows a fitted model to more user and item features, keeping everything it has learned.
  ///
  /// Use it after `Dataset.fitPartial` has added users, items or feature names: new features are
  /// numbered after the existing ones, so every trained row keeps its index and predictions for
  /// existing users and items are unchanged by the growth itself. New rows are initialised as
  /// at the first `fit` (embeddings uniform in [−0.5/d, 0.5/d), biases 0, optimiser accumulators
  /// at their starting values); `fitPartial` then trains them with the rest.
  ///
  /// LightFM cannot do this: its `fit_partial` refuses feature matrices wider than the model.
  ///
  /// - Parameters:
  ///   - userFeatureCount: the new number of user features, at least the model's.
  ///   - itemFeatureCount: the new number of item features, at least the model's.
  ///   - generator: the source of the new rows' initial values.
  /// - Throws: `LightFMError` when the model is not fitted, or when a count is smaller than the
  ///   model's (a model never shrinks: that would renumber or drop trained features).
  /// - Complexity: O((added features)·d), plus one copy of the arrays that reallocate.
  public mutating func grow(
    userFeatureCount: Int, itemFeatureCount: Int,
    using generator: inout some RandomNumberGenerator
  ) throws {
    var grown = try fittedParameters()
    if userFeatureCount < grown.userFeatureCount {
      throw LightFMError.invalidParameter(
        "userFeatureCount", userFeatureCount,
        expected: "at least the model's \(grown.userFeatureCount) user features (it only grows)")
    }
    if itemFeatureCount < grown.itemFeatureCount {
      throw LightFMError.invalidParameter(
        "itemFeatureCount", itemFeatureCount,
        expected: "at least the model's \(grown.itemFeatureCount) item features (it only grows)")
    }
    parameters = nil  // hand the arrays over uniquely, so that appending does not copy them
    grown.grow(
      userFeatureCount: userFeatureCount, itemFeatureCount: itemFeatureCount,
      schedule: learningSchedule, using: &generator)
    parameters = grown
  }

  /// Grows a fitted model to the feature counts of `dataset` (see
  /// `grow(userFeatureCount:itemFeatureCount:using:)`).
  ///
  /// - Throws: `LightFMError` when the model is not fitted or has more features than `dataset`
  ///   (it was not fitted on this dataset's mappings).
  public mutating func grow(to dataset: Dataset, using generator: inout some RandomNumberGenerator)
    throws
  {
    try grow(
      userFeatureCount: dataset.userFeaturesShape.columns,
      itemFeatureCount: dataset.itemFeaturesShape.columns, using: &generator)
  }

  /// `grow(userFeatureCount:itemFeatureCount:using:)` with the model's own training generator,
  /// so that a seeded model grows the same way every time.
  public mutating func grow(userFeatureCount: Int, itemFeatureCount: Int) throws {
    var rng = trainingGenerator()
    try grow(userFeatureCount: userFeatureCount, itemFeatureCount: itemFeatureCount, using: &rng)
    generator = rng
  }

  /// `grow(to:using:)` with the model's own training generator.
  public mutating func grow(to dataset: Dataset) throws {
    try grow(
      userFeatureCount: dataset.userFeaturesShape.columns,
      itemFeatureCount: dataset.itemFeaturesShape.columns)
  }
}
