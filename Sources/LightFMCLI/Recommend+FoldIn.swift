import Foundation
import LightFMKit

// MARK: - lightfm recommend --fold-in

extension Recommend {
  /// Folds the users of an interactions file into the loaded model (in memory; the file is not
  /// changed) and returns them as the users to recommend for, with their own interactions as
  /// the items to exclude.
  ///
  /// Each user is solved in closed form against the frozen item representations
  /// (`LightFM.foldIn`): nothing is retrained. Users new to the model get a new identity feature
  /// (their row in a model with user features holds that feature alone); a user the model
  /// already knows has its embedding recomputed from the file. Lines naming an item the model
  /// does not know are skipped with a note, as `--exclude` does.
  ///
  /// - Returns: the users in order of first appearance in the file, and a `users × items`
  ///   matrix of every line of the file (whatever its rating) for exclusion.
  /// - Throws: `LightFMError` for an unreadable file, bad lines (file and line), or a file with
  ///   no usable line.
  func foldInArrivals(_ path: String, into loaded: inout LoadedModel) throws -> (
    users: [Int], exclusion: CSRMatrix
  ) {
    let input = try InteractionInput(path: path)
    let positives = try input.positives(minRating: ratings.minRating)
    var dataset = loaded.dataset
    let unknownItems = input.records.filter { !dataset.itemIDs.contains($0.item) }
    if let first = unknownItems.first {
      Console.note(
        "recommend: \(unknownItems.count) line(s) of \(path) name an item the model does not "
          + "know and are skipped (first at \(input.location(first)))")
    }
    var order = IDMapping()
    for record in input.records where dataset.itemIDs.contains(record.item) {
      order.insert(record.user)
    }
    guard order.count > 0 else {
      throw LightFMError.invalidData(
        "\(path): no line names an item the model knows, so there is nobody to fold in")
    }
    let known = order.ids.filter { dataset.userIDs.contains($0) }
    if let first = known.first {
      Console.note(
        "recommend: \(known.count) user(s) of \(path) are already in the model (first "
          + "'\(first)'); their embeddings are recomputed from the file")
    }
    let usersBefore = dataset.userIDs.count
    let featuresBefore = dataset.userFeatureNames.count
    try dataset.fitPartial(users: order.ids)
    let users = order.ids.map { dataset.userIDs[$0]! }

    // A model with user features needs a row for each new user: its identity feature alone.
    var userFeatures = loaded.userFeatures
    if let existing = userFeatures {
      let coo = COOMatrix(existing)
      var rows: [Int32] = []
      var columns: [Int32] = []
      for u in usersBefore..<dataset.userIDs.count {
        guard let column = dataset.userFeatureNames[dataset.userIDs.id(at: u)] else { continue }
        rows.append(Int32(u))
        columns.append(Int32(column))
      }
      let extended = try CSRMatrix(
        COOMatrix(
          rows: dataset.userIDs.count, columns: dataset.userFeatureNames.count,
          rowIndices: coo.rowIndices + rows, columnIndices: coo.columnIndices + columns,
          values: coo.values + [Float](repeating: 1, count: rows.count)))
      userFeatures = extended
      let added = dataset.userFeatureNames.count - featuresBefore
      Console.note(
        "recommend: the model has user features; \(added) new user(s) are represented by their "
          + "own feature alone")
    }

    let kept = positives.filter { dataset.itemIDs.contains($0.item) }
    let interactions = try interactionMatrix(kept, dataset: dataset).toCSR()
    var model = loaded.model
    try model.foldIn(
      users: users, interactions: interactions, dataset: dataset, userFeatures: userFeatures,
      itemFeatures: loaded.itemFeatures, options: FoldInOptions(numThreads: threads.count))
    let every = input.records.filter { dataset.itemIDs.contains($0.item) }
    let exclusion = try interactionMatrix(every, dataset: dataset).toCSR()
    loaded = LoadedModel(
      saved: SavedModel(
        model: model, dataset: dataset, userFeatures: userFeatures,
        itemFeatures: loaded.itemFeatures),
      dataset: dataset, path: loaded.path)
    Console.note(
      "recommend: folded in \(users.count) user(s) from \(kept.count) positive line(s) of \(path)")
    return (users, exclusion)
  }
}
