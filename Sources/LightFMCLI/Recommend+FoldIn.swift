import ArgumentParser
import Foundation
import LightFMKit

extension Recommend {
  /// `lightfm recommend fold-in`: recommendations for users known only by their interactions,
  /// folded into the model in memory.
  struct FoldIn: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "fold-in",
      abstract: "Fold in new users from their interactions and recommend for them.",
      discussion: """
        The users of --interactions (same format as fit's --train) are solved in closed form \
        against the frozen item representations: nothing is retrained and the model file is \
        not changed. They get recommendations by their own ids, the items of their own lines \
        excluded (every line, whatever its rating). A user the model already knows has its \
        embedding recomputed from the file; in a model with user features, a new user's row \
        holds its own feature alone. Lines naming an item the model does not know are skipped \
        with a note.
        """)

    @OptionGroup var model: ModelInput

    @Option(
      name: .long,
      help: ArgumentHelp(
        "The new users' interactions, in the same format as fit's --train ('-' reads standard "
          + "input). Every line's item is left out of its user's list, whatever its rating.",
        valueName: "file"))
    var interactions: String

    @Option(
      name: .long,
      help: ArgumentHelp(
        "Read the third column of --interactions (the fold-in input) as a rating: lines rated "
          + "at least R are the new users' positives, of weight 1 " + RatingOptions.rule,
        valueName: "r"))
    var minRating: Float?

    func validate() throws { try RatingOptions.validate(minRating) }

    @OptionGroup var lists: RecommendationOutput

    @OptionGroup var batches: BatchOptions

    @OptionGroup var threads: ThreadOptions

    @OptionGroup var memory: MemoryOptions

    @OptionGroup var progress: ProgressOptions

    func run() throws {
      var loaded = try model.load()
      let arrivals = try foldIn(into: &loaded)
      try lists.stream(
        loaded, users: arrivals.users, excluding: arrivals.exclusion,
        batchSize: batches.batchSize, threads: threads.count)
    }

    /// Folds the users of `--interactions` into the loaded model (`LightFM.foldIn`).
    ///
    /// - Returns: the users in order of first appearance in the file, and a `users × items`
    ///   matrix of every usable line of the file (whatever its rating) for exclusion.
    /// - Throws: `LightFMError` for an unreadable file, bad lines (file and line), or a file
    ///   with no usable line.
    func foldIn(into loaded: inout LoadedModel) throws -> (users: [Int], exclusion: CSRMatrix) {
      let path = interactions
      let input = try InteractionInput(path: path)
      let positives = try input.positives(minRating: minRating)
      var dataset = loaded.dataset
      // Every line whose item the model knows (folding in adds users, never items).
      let itemIndex = input.indices(.item, in: dataset)
      let (lineUsers, lineItems) = (input.columns.users, input.columns.items)
      var skipped = 0
      var firstSkipped: Int?
      // The users of those lines in order of first appearance.
      var ids: [String] = []
      var seen = [Bool](repeating: false, count: input.columns.userIDs.count)
      for n in 0..<input.count {
        guard itemIndex[Int(lineItems[n])] >= 0 else {
          skipped += 1
          if firstSkipped == nil { firstSkipped = n }
          continue
        }
        let user = Int(lineUsers[n])
        if !seen[user] {
          seen[user] = true
          ids.append(input.columns.userIDs[user])
        }
      }
      if let first = firstSkipped {
        Console.note(
          "recommend: \(skipped) line(s) of \(path) name an item the model does not know and "
            + "are skipped (first at \(input.location(first)))")
      }
      guard ids.count > 0 else {
        throw LightFMError.invalidData(
          "\(path): no line names an item the model knows, so there is nobody to fold in")
      }
      let known = ids.filter { dataset.userIDs.contains($0) }
      if let first = known.first {
        Console.note(
          "recommend: \(known.count) user(s) of \(path) are already in the model (first "
            + "'\(first)'); their embeddings are recomputed from the file")
      }
      let usersBefore = dataset.userIDs.count
      try dataset.fitPartial(users: ids)
      let users = ids.map { dataset.userIDs[$0]! }
      let userFeatures = try extendedFeatures(
        loaded.userFeatures, ids: dataset.userIDs, names: dataset.userFeatureNames,
        from: usersBefore, label: "recommend", side: .user)

      let userIndex = input.indices(.user, in: dataset)
      let kept = try input.matrix(
        positives, dataset: dataset, userIndex: userIndex, itemIndex: itemIndex)
      var model = loaded.model
      try model.foldIn(
        users: users, interactions: kept.matrix.toCSR(), dataset: dataset,
        userFeatures: userFeatures, itemFeatures: loaded.itemFeatures,
        options: FoldInOptions(numThreads: threads.count))
      let exclusion = try input.matrix(
        input.everyEntry, dataset: dataset, userIndex: userIndex, itemIndex: itemIndex
      ).matrix.toCSR()
      loaded = LoadedModel(
        saved: SavedModel(
          model: model, dataset: dataset, userFeatures: userFeatures,
          itemFeatures: loaded.itemFeatures),
        dataset: dataset, path: loaded.path)
      Console.note(
        "recommend: folded in \(users.count) user(s) from \(kept.kept) positive line(s) of "
          + path)
      return (users, exclusion)
    }
  }
}
