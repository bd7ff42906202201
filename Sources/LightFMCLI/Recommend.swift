import ArgumentParser
import Foundation
import LightFMKit

/// `lightfm recommend`: top-N lists for the model's users (the default), for users folded in
/// from their interactions, or for new users described by their features.
struct Recommend: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Recommend the top items for users: known, folded in, or new by their features.",
    discussion: """
      Every subcommand writes the same lists: CSV lines user,rank,item,score (plus name with \
      --item-names), or with --format jsonl one object per user. With --output the file \
      appears only when every user is done. `lightfm recommend` alone is \
      `lightfm recommend known-users`, whose --stream scores users piped in as \
      user<TAB>item item ... lines (a shard of a Spark job) and writes no header.
      """,
    subcommands: [KnownUsers.self, FoldIn.self, NewUsers.self],
    defaultSubcommand: KnownUsers.self)
}

extension Recommend {
  /// `lightfm recommend known-users`: the top items for every user, or the listed ones, streamed
  /// as computed.
  struct KnownUsers: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Recommend the top items for all users of the model, or the listed ones.",
      discussion: """
        Scores the whole catalog through the blocked BLAS engine, a batch of users at a time, \
        and writes each batch as soon as it is ready, with the original ids. CSV lines are \
        user,rank,item,score (plus name with --item-names); JSONL lines are one object per \
        user. With --output the file appears only when every user is done. \
        --no-item-bias and --popularity-penalty (counting the --exclude file unless \
        --popularity-from is given) make popular items weigh less; the scores written are \
        then the adjusted ones.
        """)

    @OptionGroup var model: ModelInput

    @OptionGroup var selection: UserSelection

    @OptionGroup var popularity: PopularityOptions

    @OptionGroup var lists: RecommendationOutput

    @OptionGroup var batches: BatchOptions

    @OptionGroup var threads: ThreadOptions

    @Flag(name: .long, help: ArgumentHelp(Recommend.KnownUsers.streamHelp))
    var stream = false

    @OptionGroup var memory: MemoryOptions

    func validate() throws {
      try popularity.checkSource(
        hasTraining: selection.exclude != nil, trainingOption: "--exclude")
    }

    @OptionGroup var progress: ProgressOptions

    func run() throws {
      if stream { return try recommendStream() }
      let loaded = try model.load()
      let queries = try selection.userIndices(dataset: loaded.dataset)
      let exclusion = try selection.exclusionMatrix(dataset: loaded.dataset, label: "recommend")
      let control = try popularity.control(
        dataset: loaded.dataset, training: exclusion, minRating: nil, label: "recommend")
      try lists.stream(
        loaded, users: queries ?? Array(0..<loaded.dataset.userIDs.count),
        excluding: exclusion, popularity: control, batchSize: batches.batchSize,
        threads: threads.count)
    }
  }
}

// MARK: - Shared option groups

/// `--users` and `--exclude`: which of the model's users are served, and what they already have.
struct UserSelection: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Users to serve, one id per line ('-' reads standard input; default: every user of the "
        + "model). An unknown id is an error.",
      valueName: "file"))
  var users: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Interactions whose items are left out for their user, such as the training file "
        + "('-' reads standard input; every line counts, whatever its rating).",
      valueName: "file"))
  var exclude: String?

  /// Reads the `--users` list and maps every id (`nil` without `--users`); an unknown id is an
  /// error with file and line.
  func userIndices(dataset: Dataset) throws -> [Int]? {
    guard let path = users else { return nil }
    return try readIndices(path, side: .user, dataset: dataset)
  }

  /// The `--exclude` pairs as a `users × items` CSR matrix (`nil` without `--exclude`); unknown
  /// ids are skipped with a note.
  func exclusionMatrix(dataset: Dataset, label: String) throws -> CSRMatrix? {
    guard let path = exclude else { return nil }
    let input = try InteractionInput(path: path)
    let read = try input.matrix(input.everyEntry, dataset: dataset)
    if let first = read.firstUnknown {
      Console.note(
        "\(label): \(read.unknown) line(s) of \(path) name a user or item the model does not "
          + "know and exclude nothing (first at \(input.location(first)))")
    }
    return read.matrix.toCSR()
  }
}

/// `--batch-size`: how many users are scored between writes.
struct BatchOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Users scored per batch; each batch is written when done (known users and fold-in).",
      valueName: "n"))
  var batchSize: Int = 2048

  func validate() throws {
    if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
  }
}

/// `--top`, `--output`, `--format` and `--item-names`: the lists every recommend command writes.
struct RecommendationOutput: ParsableArguments {
  @Option(name: .long, help: ArgumentHelp("Items per user.", valueName: "n"))
  var top: Int = 10

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Write here instead of standard output ('-' is standard output); the file appears only "
        + "when every list is written.",
      valueName: "file"))
  var output: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Recommend only from these items, one id per line ('-' reads standard input; default: "
        + "every item of the model). An id the model does not know is an error.",
      valueName: "file"))
  var items: String?

  @OptionGroup var listOptions: ListOptions

  func validate() throws {
    if top < 1 { throw ValidationError("--top must be at least 1") }
  }

  /// The `--items` list as item indices (`nil` without `--items`); an unknown id is an error
  /// with file and line.
  func candidates(dataset: Dataset) throws -> [Int]? {
    guard let path = items else { return nil }
    return try readIndices(path, side: .item, dataset: dataset)
  }

  /// The writer of the lists (one per user), with the `--item-names` read.
  func listWriter() throws -> ListWriter {
    ListWriter(
      format: listOptions.format, names: try readNames(listOptions.itemNames), queryKey: "user")
  }

  /// Writes the header, then `lists(users)` for each user id in `ids` order, then completes the
  /// output; `lists` returns one scored item list per query.
  func write(
    ids: [String], dataset: Dataset, batchSize: Int, label: String,
    lists: ([Int]) throws -> Recommendations
  ) throws {
    let writer = try listWriter()
    let sink = try OutputSink(path: output)
    try sink.write(writer.header)
    let progress = ProgressLine(label, total: ids.count, unit: .count("users"))
    defer { progress.finish() }
    var done = 0
    for start in stride(from: 0, to: ids.count, by: batchSize) {
      let batch = Array(start..<min(start + batchSize, ids.count))
      try writer.write(
        try lists(batch), queries: batch.map { ids[$0] }, ids: dataset.itemIDs, to: sink)
      try sink.flush()
      done += batch.count
      progress.update(done)
    }
    try sink.finish()
  }

  /// Recommends for the model's `users` (indices), a batch at a time, each batch written as
  /// soon as it is scored.
  func stream(
    _ loaded: LoadedModel, users: [Int], excluding exclusion: CSRMatrix?,
    popularity: PopularityControl = .none, batchSize: Int, threads: Int
  ) throws {
    let dataset = loaded.dataset
    let candidates = try candidates(dataset: dataset)
    try write(
      ids: users.map { dataset.userIDs.id(at: $0) }, dataset: dataset, batchSize: batchSize,
      label: "recommend"
    ) { batch in
      try loaded.model.recommend(
        users: batch.map { users[$0] }, count: top, excluding: exclusion, candidates: candidates,
        userFeatures: loaded.userFeatures, itemFeatures: loaded.itemFeatures,
        popularity: popularity, numThreads: threads)
    }
  }
}

/// Formats ranked lists (recommendations or similar items) as CSV or JSON lines.
struct ListWriter {
  let format: OutputFormat
  /// Item names to add, or `nil` for no name column (JSON lines leave out `name` for an item
  /// without one).
  let names: [String: String]?
  /// What the query column is called: `user` or `item`.
  let queryKey: String
  var scoreKey = "score"
  var itemKey = "item"

  var header: String {
    guard format == .csv else { return "" }
    return "\(queryKey),rank,\(itemKey),\(scoreKey)" + (names == nil ? "" : ",name") + "\n"
  }

  func lines(query: String, items: [(id: String, score: Float)]) -> String {
    switch format {
    case .csv:
      var out = ""
      for (rank, entry) in items.enumerated() {
        out += "\(csvField(query)),\(rank + 1),\(csvField(entry.id)),\(entry.score)"
        if let names { out += "," + csvField(names[entry.id] ?? "") }
        out += "\n"
      }
      return out
    case .jsonl:
      let list = items.map { entry in
        var object =
          "{\(jsonString(itemKey)): \(jsonString(entry.id)), "
          + "\(jsonString(scoreKey)): \(jsonNumber(entry.score))"
        if let name = names?[entry.id] { object += ", \"name\": \(jsonString(name))" }
        return object + "}"
      }
      return "{\(jsonString(queryKey)): \(jsonString(query)), \"items\": ["
        + list.joined(separator: ", ") + "]}\n"
    }
  }

  /// Writes the lines of every list, `lists[n]` being the list of `queries[n]`, its indices
  /// named through `ids`.
  ///
  /// - Throws: as `OutputSink.write`.
  func write(
    _ lists: Recommendations, queries: [String], ids: IDMapping, to sink: OutputSink
  ) throws {
    for (position, list) in lists.enumerated() {
      try sink.write(
        lines(query: queries[position], items: list.map { (ids.id(at: $0.index), $0.score) }))
    }
  }
}

/// Reads a list of `side` ids, one per line, from `path` ('-' for standard input) and maps each
/// to its index in the model; an unknown id is an error naming the file and line.
func readIndices(_ path: String, side: Side, dataset: Dataset) throws -> [Int] {
  let ids = dataset.ids(side)
  let (bytes, name) = try readInput(path).text(expecting: "one \(side) id per line")
  return try DelimitedText.parseIDs(bytes, file: name).map { entry in
    guard let index = ids[entry.id] else {
      throw LightFMError(
        .unknownID,
        "\(name):\(entry.line): unknown \(side) id '\(entry.id)': the model has "
          + "\(ids.count) \(side)s (for example '\(ids.id(at: 0))')")
    }
    return index
  }
}
