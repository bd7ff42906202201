import ArgumentParser
import Foundation
import LightFMKit

/// `lightfm rank-new-items`: where items known only by their features would rank for the
/// model's users.
struct RankNewItems: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rank-new-items",
    abstract: "Rank items the model has never seen, from their features alone, for its users.",
    discussion: """
      For each item of --features (lines id<sep>feature[:weight]..., as fit's \
      --item-features) and each user (the --users listed, or all), prints the item's rank \
      among the catalog items the user has not interacted with (--exclude): 0 means it would \
      be the user's first pick. The score s = b_u + b_j + p_u·q_j is printed beside it. Every \
      feature must be one the model was fitted with; nothing is retrained. CSV lines are \
      item,user,rank,score; JSONL lines are one object per item.
      """)

  @OptionGroup var model: ModelInput

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The new items' features: id<sep>feature[:weight]... lines ('-' reads standard input).",
      valueName: "file"))
  var features: String

  @OptionGroup var selection: UserSelection

  @Option(
    name: .long,
    help: ArgumentHelp("Write here instead of standard output.", valueName: "file"))
  var output: String?

  @Option(name: .long, help: "Output format: csv or jsonl.")
  var format: OutputFormat = .csv

  @OptionGroup var threads: ThreadOptions

  @OptionGroup var memory: MemoryOptions

  @OptionGroup var progress: ProgressOptions

  func run() throws {
    let loaded = try model.load()
    let dataset = loaded.dataset
    let (ids, rows) = try coldStartRows(
      features, dataset: dataset, side: .item, label: "rank-new-items")
    let queries =
      try selection.userIndices(dataset: dataset) ?? Array(0..<dataset.userIDs.count)
    let exclusion = try selection.exclusionMatrix(dataset: dataset, label: "rank-new-items")
    let ranks = try loaded.model.newItemRanks(
      features: rows, users: queries, excluding: exclusion, userFeatures: loaded.userFeatures,
      itemFeatures: loaded.itemFeatures, numThreads: threads.count)
    let newItems = try loaded.model.itemRepresentations(features: rows)
    let sink = try OutputSink(path: output)
    if format == .csv { try sink.write("item,user,rank,score\n") }
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
      switch format {
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
    Console.note("rank-new-items: ranked \(ids.count) new item(s) for \(queries.count) user(s)")
  }
}
