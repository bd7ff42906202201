/// The two sides of the model: users and items each have features, and each feature an
/// embedding, a bias and their optimiser state.
public enum Side: String, CaseIterable, Sendable {
  /// The users' side: user features, their embeddings and biases.
  case user
  /// The items' side: item features, their embeddings and biases.
  case item

  /// The plural noun, as messages use it ("users", "items").
  var plural: String { rawValue + "s" }
}

/// The arrays one side of the model holds, in file and export order.
///
/// This is the one list of them: `SideParameters`, the model file, growth, export and the
/// trainer's buffers all iterate it, so a new optimiser array is added here and in
/// `SideParameters`' `subscript` only.
enum SideArray: Int, CaseIterable, Sendable {
  case embeddings
  case biases
  case embeddingGradients
  case embeddingMomentum
  case biasGradients
  case biasMomentum

  /// Whether the array holds `noComponents` values per feature (else one per feature).
  var perComponent: Bool {
    switch self {
    case .embeddings, .embeddingGradients, .embeddingMomentum: true
    case .biases, .biasGradients, .biasMomentum: false
    }
  }

  /// Whether the array is optimiser state (written after both sides' learned values).
  var isOptimiserState: Bool { self != .embeddings && self != .biases }

  /// The Python LightFM attribute suffix (`user_` or `item_` goes before it).
  var exportName: String {
    switch self {
    case .embeddings: "embeddings"
    case .biases: "biases"
    case .embeddingGradients: "embedding_gradients"
    case .embeddingMomentum: "embedding_momentum"
    case .biasGradients: "bias_gradients"
    case .biasMomentum: "bias_momentum"
    }
  }

  /// The value new rows start with; `nil` for the embeddings, which start uniform in
  /// [−0.5/d, 0.5/d). Adagrad's sums of squares start at 1, Adadelta's averages at 0.
  func initialValue(_ schedule: LightFM.LearningSchedule) -> Float? {
    switch self {
    case .embeddings: nil
    case .biases, .embeddingMomentum, .biasMomentum: 0
    case .embeddingGradients, .biasGradients: schedule == .adagrad ? 1 : 0
    }
  }

  /// The arrays of both sides in model-file order: both sides' learned values, then both
  /// sides' optimiser state.
  static var fileOrder: [(side: Side, array: SideArray)] {
    [false, true].flatMap { optimiser in
      Side.allCases.flatMap { side in
        allCases.filter { $0.isOptimiserState == optimiser }.map { (side, $0) }
      }
    }
  }
}

/// What one side of a fitted model has learned, in flat row-major `Float` arrays.
///
/// Embeddings are `featureCount × d`; biases one per feature. The optimiser state sits beside
/// each array with the same layout: for Adagrad, `…Gradients` holds the running sum of squared
/// gradients G (starting at 1); for Adadelta, `…Gradients` holds the running average of squared
/// gradients and `…Momentum` that of squared updates (both starting at 0).
struct SideParameters: Sendable, Equatable {
  var featureCount: Int
  var embeddings: [Float] = []
  var biases: [Float] = []
  var embeddingGradients: [Float] = []
  var embeddingMomentum: [Float] = []
  var biasGradients: [Float] = []
  var biasMomentum: [Float] = []

  subscript(array: SideArray) -> [Float] {
    get { self[keyPath: Self.path(array)] }
    // In place (not get-then-set), so that appending to a uniquely held array does not copy it.
    _modify { yield &self[keyPath: Self.path(array)] }
  }

  private static func path(_ array: SideArray) -> WritableKeyPath<Self, [Float]> {
    switch array {
    case .embeddings: \.embeddings
    case .biases: \.biases
    case .embeddingGradients: \.embeddingGradients
    case .embeddingMomentum: \.embeddingMomentum
    case .biasGradients: \.biasGradients
    case .biasMomentum: \.biasMomentum
    }
  }
}

extension SideParameters {
  /// Every array zero-filled to the right size for `featureCount` features of dimension `d`.
  init(featureCount: Int, noComponents d: Int) {
    precondition(d >= 1 && featureCount >= 0)
    self.featureCount = featureCount
    for array in SideArray.allCases {
      let count = array.perComponent ? featureCount * d : featureCount
      self[array] = [Float](repeating: 0, count: count)
    }
  }
}

/// Everything a fitted `LightFM` has learned: one `SideParameters` per side.
struct ModelParameters: Sendable, Equatable {
  var noComponents: Int
  var users: SideParameters
  var items: SideParameters

  /// Parameters with every array zero-filled to the right size (the trainer initialises them).
  init(noComponents d: Int, userFeatureCount: Int, itemFeatureCount: Int) {
    noComponents = d
    users = SideParameters(featureCount: userFeatureCount, noComponents: d)
    items = SideParameters(featureCount: itemFeatureCount, noComponents: d)
  }

  subscript(side: Side) -> SideParameters {
    get { side == .user ? users : items }
    _modify {
      switch side {
      case .user: yield &users
      case .item: yield &items
      }
    }
  }

  var userFeatureCount: Int { users.featureCount }
  var itemFeatureCount: Int { items.featureCount }
}
