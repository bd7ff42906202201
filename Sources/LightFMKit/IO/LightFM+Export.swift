import Foundation

// MARK: - Exporting the learned arrays

extension LightFM {
  /// The learned arrays as float32 numpy arrays, named as the Python LightFM's attributes.
  ///
  /// `user_embeddings` and `item_embeddings` are `features × noComponents`; the biases and the
  /// optimiser state (`*_gradients`: Adagrad's sums of squares or Adadelta's averages of squared
  /// gradients; `*_momentum`: Adadelta's averages of squared updates) follow the same layout.
  ///
  /// - Throws: `LightFMError` (`.notFitted`) when the model has not been fitted.
  public func numpyArrays() throws -> [(name: String, array: NumpyArray)] {
    guard let p = parameters else {
      throw LightFMError(.notFitted, "the model has no learned arrays: call fit first")
    }
    let d = p.noComponents
    func matrix(_ values: [Float], rows: Int) -> NumpyArray {
      NumpyArray(values, shape: [rows, d])
    }
    let (u, i) = (p.userFeatureCount, p.itemFeatureCount)
    return [
      ("user_embeddings", matrix(p.userEmbeddings, rows: u)),
      ("user_biases", NumpyArray(p.userBiases)),
      ("item_embeddings", matrix(p.itemEmbeddings, rows: i)),
      ("item_biases", NumpyArray(p.itemBiases)),
      ("user_embedding_gradients", matrix(p.userEmbeddingGradients, rows: u)),
      ("user_embedding_momentum", matrix(p.userEmbeddingMomentum, rows: u)),
      ("user_bias_gradients", NumpyArray(p.userBiasGradients)),
      ("user_bias_momentum", NumpyArray(p.userBiasMomentum)),
      ("item_embedding_gradients", matrix(p.itemEmbeddingGradients, rows: i)),
      ("item_embedding_momentum", matrix(p.itemEmbeddingMomentum, rows: i)),
      ("item_bias_gradients", NumpyArray(p.itemBiasGradients)),
      ("item_bias_momentum", NumpyArray(p.itemBiasMomentum)),
    ]
  }
}
