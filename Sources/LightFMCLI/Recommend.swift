import ArgumentParser
import Foundation
import LightFMKit

/// `lightfm recommend`: the top items for every user, or the listed ones, streamed as computed.
struct Recommend: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Recommend the top items for all users, or the listed ones.",
    discussion: """
      Scores the whole catalog through the blocked BLAS engine, a batch of users at a time, and \
      writes each batch as soon as it is ready, with the original ids. CSV lines are \
      user,rank,item,score (plus name with --item-names); JSONL lines are one object per user. \
      With --output the file appears only when every user is done.
      """)

  @OptionGroup var model: ModelInput

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Interactions of users the model has never seen, in the same format as fit's --train: "
        + "they are folded in (closed-form embeddings against the frozen items, nothing "
        + "retrained) and get recommendations by their own ids, their own items excluded.",
      valueName: "file"))
  var foldIn: String?

  @OptionGroup var ratings: RatingOptions

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Users the model has never seen, described by features alone (lines "
        + "id<sep>feature[:weight]..., as fit's --user-features): they get recommendations "
        + "from the sums of their features' embeddings, nothing retrained.",
      valueName: "file"))
  var newUsers: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Items the model has never seen, described by features alone (lines "
        + "id<sep>feature[:weight]..., as fit's --item-features): prints where each would rank "
        + "for every user (or the --users listed) among the items they have not interacted with "
        + "(--exclude), 0 being the first pick. Nothing is retrained.",
      valueName: "file"))
  var newItems: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Users to recommend for, one id per line ('-' reads standard input; default: every user "
        + "of the model). An unknown id is an error.",
      valueName: "file"))
  var users: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Interactions whose items are not recommended to their user, such as the training file "
        + "(every line counts, whatever its rating).",
      valueName: "file"))
  var exclude: String?

  @Option(name: .long, help: ArgumentHelp("Items per user.", valueName: "n"))
  var top: Int = 10

  @Option(
    name: .long,
    help: ArgumentHelp("Write here instead of standard output.", valueName: "file"))
  var output: String?

  @OptionGroup var listOptions: ListOptions

  @Option(
    name: .long,
    help: ArgumentHelp("Users scored per batch (each batch is written when done).", valueName: "n")
  )
  var batchSize: Int = 2048

  @OptionGroup var threads: ThreadOptions

  func validate() throws {
    if top < 1 { throw ValidationError("--top must be at least 1") }
    if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    if foldIn != nil && users != nil {
      throw ValidationError("--fold-in recommends for the users of its file: drop --users")
    }
    if foldIn != nil && exclude != nil {
      throw ValidationError("--fold-in excludes the items of its own file: drop --exclude")
    }
    if newUsers != nil && (foldIn != nil || users != nil || exclude != nil || newItems != nil) {
      throw ValidationError("--new-users recommends for the users of its file alone")
    }
    if newItems != nil && foldIn != nil {
      throw ValidationError("--new-items ranks for the model's own users: drop --fold-in")
    }
    if foldIn == nil && ratings.minRating != nil {
      throw ValidationError("--min-rating applies to the --fold-in file only")
    }
  }

  func run() throws {
    if let newUsers { return try recommendColdStart(newUsers) }
    if let newItems { return try rankNewItems(newItems) }
    var loaded = try model.load()
    var queries = try users.map { try userIndices($0, dataset: loaded.dataset) }
    var exclusion = try exclude.map { try exclusionMatrix($0, dataset: loaded.dataset) }
    if let foldIn {
      let arrivals = try foldInArrivals(foldIn, into: &loaded)
      queries = arrivals.users
      exclusion = arrivals.exclusion
    }
    let dataset = loaded.dataset
    let names = try readNames(listOptions.itemNames)
    let all = queries ?? Array(0..<dataset.userIDs.count)

    let sink = try OutputSink(path: output)
    let writer = ListWriter(
      format: listOptions.format, names: listOptions.itemNames == nil ? nil : names,
      queryKey: "user")
    try sink.write(writer.header)
    var done = 0
    for start in stride(from: 0, to: all.count, by: batchSize) {
      let batch = Array(all[start..<min(start + batchSize, all.count)])
      let lists = try loaded.model.recommend(
        users: batch, k: top, excluding: exclusion, userFeatures: loaded.userFeatures,
        itemFeatures: loaded.itemFeatures, numThreads: threads.count)
      for (position, list) in lists.enumerated() {
        try sink.write(
          writer.lines(
            query: dataset.userIDs.id(at: batch[position]),
            items: list.map { (dataset.itemIDs.id(at: $0.item), $0.score) }))
      }
      sink.flush()
      done += batch.count
      if all.count > batchSize { Console.note("recommend: \(done)/\(all.count) users") }
    }
    try sink.finish()
  }

  /// Reads the `--users` list and maps every id; an unknown id is an error with file and line.
  func userIndices(_ path: String, dataset: Dataset) throws -> [Int] {
    let name = path == "-" ? "<stdin>" : path
    let bytes =
      path == "-"
      ? [UInt8](FileHandle.standardInput.readDataToEndOfFile())
      : [UInt8](try readWhole(path))
    return try DelimitedText.parseIDs(bytes, file: name).map { entry in
      guard let index = dataset.userIDs[entry.id] else {
        throw LightFMError(
          .unknownID,
          "\(name):\(entry.line): unknown user id '\(entry.id)': the model has "
            + "\(dataset.userIDs.count) users (for example '\(dataset.userIDs.id(at: 0))')")
      }
      return index
    }
  }

  /// The pairs to exclude, as a `users × items` CSR matrix; unknown ids are skipped with a note.
  func exclusionMatrix(_ path: String, dataset: Dataset) throws -> CSRMatrix {
    let input = try InteractionInput(path: path)
    let (known, unknown) = knownRecords(input.records, in: dataset)
    if let first = unknown.first {
      Console.note(
        "recommend: \(unknown.count) line(s) of \(path) name a user or item the model does not "
          + "know and exclude nothing (first at \(input.location(first)))")
    }
    return try interactionMatrix(known, dataset: dataset).toCSR()
  }
}

/// Reads a file whole, with an error that names it.
func readWhole(_ path: String) throws -> Data {
  do {
    return try Data(contentsOf: URL(fileURLWithPath: path))
  } catch {
    throw LightFMError(.io, "\(path): cannot read: no such file or not readable")
  }
}

/// Formats ranked lists (recommendations or similar items) as CSV or JSON lines.
struct ListWriter {
  let format: OutputFormat
  /// Item names to add, or `nil` for no name column.
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
        if let names { object += ", \"name\": \(jsonString(names[entry.id] ?? ""))" }
        return object + "}"
      }
      return "{\(jsonString(queryKey)): \(jsonString(query)), \"items\": ["
        + list.joined(separator: ", ") + "]}\n"
    }
  }
}
