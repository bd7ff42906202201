/// A two-way map between external ids (or feature names) and dense indices `0..<count`.
///
/// Ids are kept as text: an integer id `7` and the string `"7"` are the same id. This differs
/// from LightFM, where any hashable is a distinct key; data read from text files has only strings,
/// so a model trained from Swift integers and served from a file must agree on them.
public struct IDMapping: Equatable, Sendable, Sequence {
  /// The ids in index order: `ids[index]` is the id of `index`.
  public private(set) var ids: [String]
  private var indices: [String: Int]

  /// An empty mapping.
  public init() {
    ids = []
    indices = [:]
  }

  /// A mapping over `ids` in order; repeats keep their first index.
  public init<S: Sequence>(_ ids: S) where S.Element: LosslessStringConvertible {
    self.init()
    for id in ids { insert(String(describing: id)) }
  }

  /// The number of mapped ids.
  public var count: Int { ids.count }

  /// The index of `id`, or `nil` when it was never mapped.
  public subscript<ID: LosslessStringConvertible>(_ id: ID) -> Int? {
    indices[String(describing: id)]
  }

  /// The index of `id`, or `nil` when it was never mapped (no conversion: the fast path for
  /// ids read from text).
  public subscript(_ id: String) -> Int? { indices[id] }

  /// Whether `id` is mapped.
  public func contains(_ id: String) -> Bool { indices[id] != nil }

  /// The id of `index`.
  public func id(at index: Int) -> String { ids[index] }

  /// Whether `id` is mapped.
  public func contains<ID: LosslessStringConvertible>(_ id: ID) -> Bool {
    indices[String(describing: id)] != nil
  }

  /// Adds `id` when it is new; returns its index either way.
  @discardableResult
  package mutating func insert(_ id: String) -> Int {
    if let existing = indices[id] { return existing }
    let index = ids.count
    ids.append(id)
    indices[id] = index
    return index
  }

  /// The (id, index) pairs in index order.
  public func makeIterator() -> some IteratorProtocol<(id: String, index: Int)> {
    ids.enumerated().lazy.map { (id: $0.element, index: $0.offset) }.makeIterator()
  }

  /// Whether both map the same ids to the same indices.
  public static func == (lhs: IDMapping, rhs: IDMapping) -> Bool { lhs.ids == rhs.ids }
}
