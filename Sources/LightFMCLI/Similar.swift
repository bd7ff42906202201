import ArgumentParser
import Foundation
import LightFMKit

/// `lightfm similar`: the items (or users) closest to one, by cosine similarity of embeddings.
struct Similar: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the items most similar to an item (or the users most similar to a user).",
    discussion: """
      Similarity is the cosine of the representations (feature embeddings summed through the \
      feature matrix; biases left out). The query itself is not listed.
      """)

  @OptionGroup var model: ModelInput

  @OptionGroup var progress: ProgressOptions

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The item to start from: its id, or with --item-names its name when no item has that id "
        + "(exact, else ignoring case; a name shared by several items is an error).",
      valueName: "id"))
  var item: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "A user id to start from instead (lists similar users; --item-names does not apply).",
      valueName: "id"))
  var user: String?

  @Option(name: .long, help: ArgumentHelp("How many to list.", valueName: "n"))
  var top: Int = 10

  @OptionGroup var output: ListOptions

  @OptionGroup var memory: MemoryOptions

  func validate() throws {
    if top < 1 { throw ValidationError("--top must be at least 1") }
    if (item == nil) == (user == nil) {
      throw ValidationError("give exactly one of --item, --user")
    }
  }

  func run() throws {
    let loaded = try model.load()
    let dataset = loaded.dataset
    let side: Side = item != nil ? .item : .user
    let isItem = side == .item
    let ids = dataset.ids(side)
    let names = isItem ? try readNames(output.itemNames) : nil
    let given = item ?? user ?? ""
    let id = try names.map { try Self.itemID(given, names: $0, ids: ids) } ?? given
    guard let index = ids[id] else {
      throw LightFMError(
        .unknownID,
        "unknown \(side) \(names == nil ? "id" : "id or name") '\(id)': the model has "
          + "\(ids.count) \(side)s (for example '\(ids.id(at: 0))')")
    }
    let list =
      isItem
      ? try loaded.model.similarItems(
        to: [index], count: top, itemFeatures: loaded.itemFeatures, numThreads: 1)
      : try loaded.model.similarUsers(
        to: [index], count: top, userFeatures: loaded.userFeatures, numThreads: 1)
    var writer = ListWriter(
      format: output.format, names: names, queryKey: side.rawValue)
    writer.itemKey = "similar_\(side)"
    writer.scoreKey = "similarity"
    let sink = try OutputSink(path: nil)
    try sink.write(writer.header)
    try writer.write(list, queries: [id], ids: ids, to: sink)
    try sink.finish()
  }

  /// The id `query` stands for: itself when an item has that id, else the one item whose name
  /// is `query` (exactly, else ignoring case).
  ///
  /// - Throws: `LightFMError` (`.unknownID`) when several items share the name.
  static func itemID(_ query: String, names: [String: String], ids: IDMapping) throws -> String {
    if ids.contains(query) { return query }
    var matches = names.filter { ids.contains($0.key) && $0.value == query }.map(\.key)
    if matches.isEmpty {
      let folded = query.lowercased()
      matches = names.filter { ids.contains($0.key) && $0.value.lowercased() == folded }
        .map(\.key)
    }
    guard matches.count <= 1 else {
      throw LightFMError(
        .unknownID,
        "the name '\(query)' belongs to \(matches.count) items (ids "
          + matches.sorted().prefix(5).joined(separator: ", ") + "): give an id with --item")
    }
    return matches.first ?? query
  }
}
