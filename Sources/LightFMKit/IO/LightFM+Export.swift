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
  package func numpyArrays() throws -> [(name: String, array: NumpyArray)] {
    let p = try fittedParameters()
    return SideArray.fileOrder.map { side, array in
      let values = p[side][array]
      let shape = array.perComponent ? [p[side].featureCount, p.noComponents] : [values.count]
      return ("\(side)_\(array.exportName)", NumpyArray(values, shape: shape))
    }
  }
}
