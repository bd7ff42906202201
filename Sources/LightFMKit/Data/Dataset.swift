/// Maps user and item ids and feature names to indices, and builds the interaction and feature
/// matrices that `LightFM` trains on.
///
/// Semantics follow LightFM's `Dataset`: with identity features on (the default), every user and
/// item gets a feature of its own, named by its id, placed before the metadata features it was
/// fitted with. Unlike LightFM, nothing is dropped silently: an id or feature name that was never
/// fitted is an error that names it.
public struct Dataset: Sendable {
  /// Whether each user gets a feature of its own (its id), as in LightFM.
  public let userIdentityFeatures: Bool
  /// Whether each item gets a feature of its own (its id), as in LightFM.
  public let itemIdentityFeatures: Bool

  /// User ids to interaction-matrix rows.
  public private(set) var userIDs = IDMapping()
  /// Item ids to interaction-matrix columns.
  public private(set) var itemIDs = IDMapping()
  /// User feature names (user ids first, with identity features) to user-feature columns.
  public private(set) var userFeatureNames = IDMapping()
  /// Item feature names (item ids first, with identity features) to item-feature columns.
  public private(set) var itemFeatureNames = IDMapping()

  /// An empty dataset; `fit` maps the ids and feature names.
  public init(userIdentityFeatures: Bool = true, itemIdentityFeatures: Bool = true) {
    self.userIdentityFeatures = userIdentityFeatures
    self.itemIdentityFeatures = itemIdentityFeatures
  }

  /// Rebuilds a dataset from saved mappings (model files).
  public init(
    userIDs: IDMapping, itemIDs: IDMapping,
    userFeatureNames: IDMapping, itemFeatureNames: IDMapping,
    userIdentityFeatures: Bool, itemIdentityFeatures: Bool
  ) {
    self.userIdentityFeatures = userIdentityFeatures
    self.itemIdentityFeatures = itemIdentityFeatures
    self.userIDs = userIDs
    self.itemIDs = itemIDs
    self.userFeatureNames = userFeatureNames
    self.itemFeatureNames = itemFeatureNames
  }

  // MARK: - Fitting ids

  /// Forgets every mapping, then maps the given users, items and feature names.
  ///
  /// - Throws: `LightFMError` for an empty id, or a feature name equal to an id while identity
  ///   features are on (the two would silently share one feature).
  public mutating func fit(
    users: [any LosslessStringConvertible],
    items: [any LosslessStringConvertible],
    userFeatures: [String] = [],
    itemFeatures: [String] = []
  ) throws {
    userIDs = IDMapping()
    itemIDs = IDMapping()
    userFeatureNames = IDMapping()
    itemFeatureNames = IDMapping()
    try fitPartial(
      users: users, items: items, userFeatures: userFeatures, itemFeatures: itemFeatures)
  }

  /// Adds users, items and feature names to the existing mappings; known ones keep their index.
  ///
  /// New ids get the next indices and, with identity features on, the next feature indices after
  /// every feature already mapped (as LightFM's `fit_partial`).
  public mutating func fitPartial(
    users: [any LosslessStringConvertible] = [],
    items: [any LosslessStringConvertible] = [],
    userFeatures: [String] = [],
    itemFeatures: [String] = []
  ) throws {
    try Self.add(
      ids: users.map { String(describing: $0) }, features: userFeatures, side: .user,
      identity: userIdentityFeatures, ids: &userIDs, featureNames: &userFeatureNames)
    try Self.add(
      ids: items.map { String(describing: $0) }, features: itemFeatures, side: .item,
      identity: itemIdentityFeatures, ids: &itemIDs, featureNames: &itemFeatureNames)
  }

  private static func add(
    ids newIDs: [String], features: [String], side: Side, identity: Bool,
    ids: inout IDMapping, featureNames: inout IDMapping
  ) throws {
    for id in newIDs {
      guard !id.isEmpty else { throw LightFMError.invalidData("\(side) id is empty") }
      if identity && !ids.contains(id) && featureNames.contains(id) {
        throw LightFMError.invalidData(
          "\(side) id '\(id)' is also the name of a \(side) feature; identity features are "
            + "named by the id, so rename the feature or turn \(side)IdentityFeatures off")
      }
      let isNew = !ids.contains(id)
      ids.insert(id)
      if identity && isNew { featureNames.insert(id) }
    }
    for name in features {
      guard !name.isEmpty else { throw LightFMError.invalidData("\(side) feature name is empty") }
      if identity && ids.contains(name) {
        throw LightFMError.invalidData(
          "\(side) feature '\(name)' has the same name as a \(side) id; identity features are "
            + "named by the id, so rename the feature or turn \(side)IdentityFeatures off")
      }
      featureNames.insert(name)
    }
  }

  // MARK: - Shapes and mappings

  /// (users, items): the shape of the interaction matrix.
  public var interactionsShape: MatrixShape {
    MatrixShape(rows: userIDs.count, columns: itemIDs.count)
  }
  /// (users, user features).
  public var userFeaturesShape: MatrixShape {
    MatrixShape(rows: userIDs.count, columns: userFeatureNames.count)
  }
  /// (items, item features).
  public var itemFeaturesShape: MatrixShape {
    MatrixShape(rows: itemIDs.count, columns: itemFeatureNames.count)
  }

  /// The four mappings and the matrix shapes, as LightFM's `Dataset.mapping()`.
  public struct Mapping: Sendable {
    /// User ids to rows (`userIDs`).
    public let userIdMap: IDMapping
    /// User feature names to columns (`userFeatureNames`).
    public let userFeatureMap: IDMapping
    /// Item ids to columns (`itemIDs`).
    public let itemIdMap: IDMapping
    /// Item feature names to columns (`itemFeatureNames`).
    public let itemFeatureMap: IDMapping
    /// (users, items).
    public let interactionsShape: MatrixShape
    /// (users, user features).
    public let userFeaturesShape: MatrixShape
    /// (items, item features).
    public let itemFeaturesShape: MatrixShape
  }

  /// The four mappings and the three shapes in one value.
  public func mapping() -> Mapping {
    Mapping(
      userIdMap: userIDs, userFeatureMap: userFeatureNames,
      itemIdMap: itemIDs, itemFeatureMap: itemFeatureNames,
      interactionsShape: interactionsShape,
      userFeaturesShape: userFeaturesShape, itemFeaturesShape: itemFeaturesShape)
  }

  // MARK: - Lookups

  func userIndex<U: LosslessStringConvertible>(_ id: U) throws -> Int {
    guard let index = userIDs[id] else {
      throw LightFMError(.unknownID, "unknown user id '\(id)': it was never fitted in the Dataset")
    }
    return index
  }

  func itemIndex<I: LosslessStringConvertible>(_ id: I) throws -> Int {
    guard let index = itemIDs[id] else {
      throw LightFMError(.unknownID, "unknown item id '\(id)': it was never fitted in the Dataset")
    }
    return index
  }
}
