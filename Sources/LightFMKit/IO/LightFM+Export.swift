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

// MARK: - Importing learned arrays

extension LightFM {
  /// Sets the learned arrays from numpy arrays named as the Python LightFM's attributes: the
  /// inverse of `numpyArrays()`, so a model trained by the Python LightFM scores here as it
  /// did there.
  ///
  /// `user_embeddings` and `item_embeddings` (`features × noComponents`) and `user_biases` and
  /// `item_biases` (one per feature) are required. The optimiser state
  /// (`user_embedding_gradients`, `user_embedding_momentum`, `user_bias_gradients`,
  /// `user_bias_momentum` and the `item_` ones) is taken when present, and otherwise starts as
  /// a fresh `fit` starts it for the model's `learningSchedule`. Values are converted to
  /// `Float`. The training generator starts over from `randomState` at the next `fitPartial`.
  ///
  /// - Throws: `LightFMError` naming the array when a required one is missing, a shape does not
  ///   match (`noComponents` columns, one row per feature, the same features on both arrays of a
  ///   side), or a value is not finite; the model is then left as it was.
  public mutating func setParameters(numpyArrays arrays: [String: NumpyArray]) throws {
    let d = noComponents
    guard d >= 1 else {
      throw LightFMError.invalidParameter("noComponents", d, expected: "at least 1")
    }
    var counts: [Side: Int] = [:]
    for side in Side.allCases {
      let name = "\(side)_embeddings"
      guard let embeddings = arrays[name] else {
        throw LightFMError.invalidData("the \(name) array is missing")
      }
      guard embeddings.shape.count == 2, embeddings.shape[1] == d else {
        throw LightFMError.invalidData(
          "\(name) has shape \(embeddings.shape): expected (\(side) features, \(d)), with "
            + "noComponents \(d) columns")
      }
      counts[side] = embeddings.shape[0]
    }
    var p = ModelParameters(
      noComponents: d, userFeatureCount: counts[.user]!, itemFeatureCount: counts[.item]!)
    for (side, array) in SideArray.fileOrder {
      let name = "\(side)_\(array.exportName)"
      let features = counts[side]!
      let expected = array.perComponent ? [features, d] : [features]
      guard let given = arrays[name] else {
        guard array.isOptimiserState, let start = array.initialValue(learningSchedule) else {
          throw LightFMError.invalidData("the \(name) array is missing")
        }
        p[side][array] = [Float](repeating: start, count: expected.reduce(1, *))
        continue
      }
      guard given.shape == expected else {
        throw LightFMError.invalidData(
          "\(name) has shape \(given.shape): expected \(expected) (one row per \(side) "
            + "feature of \(side)_embeddings, which has \(features))")
      }
      p[side][array] = try given.floatValues(name)
    }
    parameters = p
    generator = nil
  }
}
