/// Everything a fitted `LightFM` has learned, in flat row-major `Float` arrays.
///
/// Embeddings are `features × d`; biases one per feature. The optimiser state sits beside each
/// array with the same layout: for Adagrad, `…Gradients` holds the running sum of squared
/// gradients G (starting at 1); for Adadelta, `…Gradients` holds the running average of squared
/// gradients and `…Momentum` that of squared updates (both starting at 0).
struct ModelParameters: Sendable, Equatable {
  var noComponents: Int
  var userFeatureCount: Int
  var itemFeatureCount: Int

  var userEmbeddings: [Float]
  var userBiases: [Float]
  var itemEmbeddings: [Float]
  var itemBiases: [Float]

  var userEmbeddingGradients: [Float]
  var userEmbeddingMomentum: [Float]
  var userBiasGradients: [Float]
  var userBiasMomentum: [Float]
  var itemEmbeddingGradients: [Float]
  var itemEmbeddingMomentum: [Float]
  var itemBiasGradients: [Float]
  var itemBiasMomentum: [Float]

  /// Parameters with every array zero-filled to the right size (the trainer initialises them).
  init(noComponents d: Int, userFeatureCount: Int, itemFeatureCount: Int) {
    precondition(d >= 1 && userFeatureCount >= 0 && itemFeatureCount >= 0)
    self.noComponents = d
    self.userFeatureCount = userFeatureCount
    self.itemFeatureCount = itemFeatureCount
    userEmbeddings = [Float](repeating: 0, count: userFeatureCount * d)
    userBiases = [Float](repeating: 0, count: userFeatureCount)
    itemEmbeddings = [Float](repeating: 0, count: itemFeatureCount * d)
    itemBiases = [Float](repeating: 0, count: itemFeatureCount)
    userEmbeddingGradients = userEmbeddings
    userEmbeddingMomentum = userEmbeddings
    userBiasGradients = userBiases
    userBiasMomentum = userBiases
    itemEmbeddingGradients = itemEmbeddings
    itemEmbeddingMomentum = itemEmbeddings
    itemBiasGradients = itemBiases
    itemBiasMomentum = itemBiases
  }
}
