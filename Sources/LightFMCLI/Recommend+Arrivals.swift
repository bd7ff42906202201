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
    try dataset.fitPartial(users: order.ids)
    let users = order.ids.map { dataset.userIDs[$0]! }
    let userFeatures = try extendedFeatures(
      loaded.userFeatures, ids: dataset.userIDs, names: dataset.userFeatureNames,
      from: usersBefore, label: "recommend", side: "user")

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

// MARK: - lightfm recommend --new-users

extension Recommend {
  /// Feature rows for the users of a feature file (`id<sep>feature[:weight]...`), described by
  /// their features alone: no identity feature, rows normalised as `fit` does. Nothing is
  /// retrained (`Dataset.coldStartUserFeatures`, `LightFM.recommendForNewUsers`).
  ///
  /// - Returns: the ids in file order and one feature row per id.
  /// - Throws: `LightFMError` naming the file and line of a feature the model never saw, or a
  ///   file that is not text.
  func coldStartRows(_ path: String, dataset: Dataset, side: String = "user") throws -> (
    ids: [String], rows: CSRMatrix
  ) {
    guard case .text(let file) = try FeatureInput(path: path) else {
      throw LightFMError.invalidData(
        "\(path): --new-\(side)s takes a text feature file (id<sep>feature[:weight]...), not a "
          + "matrix")
    }
    let names = side == "user" ? dataset.userFeatureNames : dataset.itemFeatureNames
    let known = side == "user" ? dataset.userIDs : dataset.itemIDs
    var ids: [String] = []
    var features: [[(String, Float)]] = []
    var lines: [Int] = []
    var position: [String: Int] = [:]
    for record in file.records {
      let pairs = record.features.map { ($0.name, $0.weight) }
      if let n = position[record.id] {
        features[n] += pairs
        continue
      }
      position[record.id] = ids.count
      ids.append(record.id)
      features.append(pairs)
      lines.append(record.line)
    }
    guard !ids.isEmpty else {
      throw LightFMError.invalidData("\(path): no \(side)s in the file")
    }
    for (n, row) in features.enumerated() {
      for (name, _) in row where !names.contains(name) {
        throw LightFMError(
          .unknownID,
          "\(path):\(lines[n]): unknown \(side) feature '\(name)' for new \(side) '\(ids[n])': "
            + "the model was fitted with \(names.count) \(side) features and not this one")
      }
    }
    let already = ids.filter { known.contains($0) }
    if let first = already.first {
      Console.note(
        "recommend: \(already.count) \(side)(s) of \(path) are in the model (first "
          + "'\(first)'); they are scored from the file's features alone")
    }
    do {
      return side == "user"
        ? (ids, try dataset.coldStartUserFeatures(features))
        : (ids, try dataset.coldStartItemFeatures(features))
    } catch let error as LightFMError {
      throw LightFMError(error.kind, "\(path): \(error.message)")
    }
  }
}

extension Recommend {
  /// `--new-users`: cold-start recommendations, written as the other lists are.
  func recommendColdStart(_ path: String) throws {
    let loaded = try model.load()
    let dataset = loaded.dataset
    let (ids, rows) = try coldStartRows(path, dataset: dataset)
    let names = try readNames(listOptions.itemNames)
    let lists = try loaded.model.recommendForNewUsers(
      features: rows, k: top, itemFeatures: loaded.itemFeatures, numThreads: threads.count)
    let sink = try OutputSink(path: output)
    let writer = ListWriter(
      format: listOptions.format, names: listOptions.itemNames == nil ? nil : names,
      queryKey: "user")
    try sink.write(writer.header)
    for (n, list) in lists.enumerated() {
      try sink.write(
        writer.lines(
          query: ids[n], items: list.map { (dataset.itemIDs.id(at: $0.item), $0.score) }))
    }
    try sink.finish()
    Console.note("recommend: \(ids.count) new user(s) served from their features alone")
  }
}

// MARK: - Feature rows for arrivals

/// A saved feature matrix extended to ids added after `from`: each new row holds the id's own
/// (identity) feature alone, and the matrix gains the new feature columns. `nil` (identity
/// features) stays `nil`.
func extendedFeatures(
  _ existing: CSRMatrix?, ids: IDMapping, names: IDMapping, from: Int, label: String,
  side: String
) throws -> CSRMatrix? {
  guard let existing else { return nil }
  let coo = COOMatrix(existing)
  var rows: [Int32] = []
  var columns: [Int32] = []
  for index in from..<ids.count {
    guard let column = names[ids.id(at: index)] else { continue }
    rows.append(Int32(index))
    columns.append(Int32(column))
  }
  if !rows.isEmpty {
    Console.note(
      "\(label): the model has \(side) features; \(rows.count) new \(side)(s) are represented "
        + "by their own feature alone")
  }
  return try CSRMatrix(
    COOMatrix(
      rows: ids.count, columns: names.count, rowIndices: coo.rowIndices + rows,
      columnIndices: coo.columnIndices + columns,
      values: coo.values + [Float](repeating: 1, count: rows.count)))
}

// MARK: - lightfm recommend --new-items

extension Recommend {
  /// `--new-items`: where items known only by their features would rank for each user (the
  /// `--users` listed, or all), among the catalog items the user has not interacted with
  /// (`--exclude`); 0 means the user's first pick. CSV lines `item,user,rank,score`, or one JSON
  /// object per item.
  func rankNewItems(_ path: String) throws {
    let loaded = try model.load()
    let dataset = loaded.dataset
    let (ids, rows) = try coldStartRows(path, dataset: dataset, side: "item")
    let queries = try users.map { try userIndices($0, dataset: dataset) }
      ?? Array(0..<dataset.userIDs.count)
    let exclusion = try exclude.map { try exclusionMatrix($0, dataset: dataset) }
    let ranks = try loaded.model.newItemRanks(
      features: rows, users: queries, excluding: exclusion, userFeatures: loaded.userFeatures,
      itemFeatures: loaded.itemFeatures, numThreads: threads.count)
    let newItems = try loaded.model.itemRepresentations(features: rows)
    let sink = try OutputSink(path: output)
    if listOptions.format == .csv { try sink.write("item,user,rank,score\n") }
    // s(u, j) = b_u + b_j + p_u·q_j, beside each rank.
    let userReps = try loaded.model.userRepresentations(features: loaded.userFeatures)
    let d = loaded.model.noComponents
    let scores = queries.map { u in
      (0..<ids.count).map { j in
        var s = userReps.biases[u] + newItems.biases[j]
        for c in 0..<d { s += userReps.embeddings[u * d + c] * newItems.embeddings[j * d + c] }
        return s
      }
    }
    for (j, id) in ids.enumerated() {
      switch listOptions.format {
      case .csv:
        var text = ""
        for (n, u) in queries.enumerated() {
          text += "\(csvField(id)),\(csvField(dataset.userIDs.id(at: u))),\(ranks[j][n]),"
            + "\(scores[n][j])\n"
        }
        try sink.write(text)
      case .jsonl:
        let entries = queries.enumerated().map { n, u in
          "{\"user\": \(jsonString(dataset.userIDs.id(at: u))), \"rank\": \(ranks[j][n]), "
            + "\"score\": \(jsonNumber(scores[n][j]))}"
        }
        try sink.write(
          "{\"item\": \(jsonString(id)), \"users\": [" + entries.joined(separator: ", ") + "]}\n")
      }
    }
    try sink.finish()
    Console.note("recommend: ranked \(ids.count) new item(s) for \(queries.count) user(s)")
  }
}
