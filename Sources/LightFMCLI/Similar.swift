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

  @Option(name: .long, help: ArgumentHelp("The item id to start from.", valueName: "id"))
  var item: String?

  @Option(name: .long, help: ArgumentHelp("A user id to start from instead.", valueName: "id"))
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
    let id = item ?? user ?? ""
    let ids = dataset.ids(side)
    guard let index = ids[id] else {
      throw LightFMError(
        .unknownID,
        "unknown \(side) id '\(id)': the model has \(ids.count) \(side)s (for example "
          + "'\(ids.id(at: 0))')")
    }
    let list =
      isItem
      ? try loaded.model.similarItems(to: index, k: top, itemFeatures: loaded.itemFeatures)
      : try loaded.model.similarUsers(to: index, k: top, userFeatures: loaded.userFeatures)
    let names = isItem ? try readNames(output.itemNames) : nil
    var writer = ListWriter(
      format: output.format, names: names, queryKey: side.rawValue)
    writer.itemKey = "similar_\(side)"
    writer.scoreKey = "similarity"
    let sink = try OutputSink(path: nil)
    try sink.write(writer.header)
    try sink.write(writer.lines(query: id, items: list.map { (ids.id(at: $0.item), $0.score) }))
    try sink.finish()
  }
}
