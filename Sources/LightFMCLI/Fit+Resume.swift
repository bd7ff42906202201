import Foundation
import LightFMKit

// MARK: - lightfm fit --resume

extension Fit {
  /// A saved model grown to a new interactions file, and that file as training data; `run`
  /// then trains it through the same step as a new model (`ConsoleTraining`), continuing from
  /// what it has learned.
  ///
  /// Users and items of the file that the model does not know are added to its mappings
  /// (`Dataset.fitPartial`), and the model grows to the new feature counts (`LightFM.grow`: new
  /// rows initialised as at the first fit, every learned value and optimiser accumulator kept).
  /// The saved hyper-parameters and training generator are kept; a saved feature matrix gains
  /// one row per new user or item, holding its own feature alone.
  ///
  /// - Throws: `LightFMError` for an unreadable model or file, bad lines (file and line), or a
  ///   file without positives.
  func resumed(_ path: String) throws -> (LightFM, TrainingData) {
    let loaded = try ModelInput(model: path).load()
    var dataset = loaded.dataset
    let input = try InteractionInput(path: train)
    let positives = try input.trainingPositives(minRating: minRating)
    let (usersBefore, itemsBefore) = (dataset.userIDs.count, dataset.itemIDs.count)
    do {
      try dataset.fitPartial(users: input.columns.userIDs, items: input.columns.itemIDs)
    } catch let error as LightFMError {
      throw LightFMError(error.kind, "\(train): \(error.message)")
    }
    Console.note(
      "fit: resuming \(path): \(dataset.userIDs.count - usersBefore) new user(s), "
        + "\(dataset.itemIDs.count - itemsBefore) new item(s), \(positives.count) positives")
    let userFeatures = try extendedFeatures(
      loaded.userFeatures, ids: dataset.userIDs, names: dataset.userFeatureNames,
      from: usersBefore, label: "fit", side: .user)
    let itemFeatures = try extendedFeatures(
      loaded.itemFeatures, ids: dataset.itemIDs, names: dataset.itemFeatureNames,
      from: itemsBefore, label: "fit", side: .item)
    let weights = try input.matrix(positives, dataset: dataset).matrix
    let interactions = try weights.withValues([Float](repeating: 1, count: weights.nnz))
    var estimator = loaded.model
    try estimator.grow(to: dataset)
    return (
      estimator,
      TrainingData(
        dataset: dataset, interactions: interactions, weights: weights,
        userFeatures: userFeatures, itemFeatures: itemFeatures)
    )
  }
}

extension ModelInput {
  init(model: String) {
    self.init()
    self.model = model
  }
}
