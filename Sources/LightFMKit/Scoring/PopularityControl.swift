#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// How much item popularity is allowed to weigh in a ranking: the item biases on or off, and a
/// penalty on the items' training counts.
///
/// ```
/// s'(u, i) = b_u + p_u · q_i + [b_i if itemBiases] − β · ln(1 + count_i)
/// ```
///
/// It changes only the item side's bias column of the scoring GEMM (`[q_i | b_i]` becomes
/// `[q_i | b'_i]`), so it costs one pass over the items before scoring and nothing per score.
/// Leaving out b_i is LightFM's own advice against recommending the same popular items to
/// everyone; the penalty goes further, down-weighting each item by how often it was trained on.
/// Scores reported under a control are the adjusted scores s'.
public struct PopularityControl: Sendable, Equatable {
  /// Whether b_i enters the score (the model's scores: `true`).
  public var itemBiases: Bool
  /// β ≥ 0, the weight of the penalty (none: 0).
  public var penalty: Float
  /// count_i per item: the item's training interactions; may be empty when `penalty` is 0.
  public var itemCounts: [Int]

  /// The model's own scores: item biases in, no penalty.
  public static let none = PopularityControl()

  /// - Parameters:
  ///   - itemBiases: `false` leaves the item biases out.
  ///   - penalty: β, at least 0.
  ///   - itemCounts: one count per item (at least 0), needed when `penalty` is not 0.
  public init(itemBiases: Bool = true, penalty: Float = 0, itemCounts: [Int] = []) {
    self.itemBiases = itemBiases
    self.penalty = penalty
    self.itemCounts = itemCounts
  }

  /// A control whose counts are each item's positive entries (value > 0) in `interactions`.
  public init(
    itemBiases: Bool = true, penalty: Float, counting interactions: some InteractionMatrix
  ) {
    self.init(
      itemBiases: itemBiases, penalty: penalty,
      itemCounts: Self.itemCounts(interactions))
  }

  /// The number of positive entries (value > 0) in each column of `interactions`: how many
  /// users interacted with each item.
  ///
  /// - Complexity: O(nnz + items).
  public static func itemCounts(_ interactions: some InteractionMatrix) -> [Int] {
    let matrix = interactions.interactionsCSR()
    var counts = [Int](repeating: 0, count: matrix.shape.columns)
    for (column, value) in zip(matrix.columnIndices, matrix.values) where value > 0 {
      counts[Int(column)] += 1
    }
    return counts
  }

  /// True when the scores are the model's own.
  public var isNone: Bool { itemBiases && penalty == 0 }

  /// Checks the control against a catalog of `items` items.
  ///
  /// - Throws: `LightFMError` for a penalty that is negative or not finite, or (with a penalty)
  ///   counts that are not one per item or include a negative one.
  func check(items: Int) throws {
    guard penalty.isFinite, penalty >= 0 else {
      throw LightFMError.invalidParameter(
        "popularity penalty", penalty, expected: "a finite number, at least 0")
    }
    guard penalty != 0 else { return }
    guard itemCounts.count == items else {
      throw LightFMError.invalidData(
        "the popularity penalty has \(itemCounts.count) item counts: expected one per item "
          + "(\(items))")
    }
    if let i = itemCounts.firstIndex(where: { $0 < 0 }) {
      throw LightFMError.invalidData(
        "the popularity count of item \(i) is \(itemCounts[i]): expected at least 0")
    }
  }

  /// The item side's bias column b'_i, one per item, or `nil` when it is the model's biases.
  ///
  /// - Complexity: O(items).
  func biasColumn(_ biases: [Float]) -> [Float]? {
    guard !isNone else { return nil }
    let beta = Double(penalty)
    return biases.indices.map { i in
      let own = itemBiases ? biases[i] : 0
      guard beta != 0 else { return own }
      return Float(Double(own) - beta * log1p(Double(itemCounts[i])))
    }
  }
}
