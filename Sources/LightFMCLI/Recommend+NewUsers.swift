import ArgumentParser
import Foundation
import LightFMKit

extension Recommend {
  /// `lightfm recommend new-users`: cold-start recommendations for users described by their
  /// features alone.
  struct NewUsers: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "new-users",
      abstract: "Recommend for users the model has never seen, from their features alone.",
      discussion: """
        Each user of --features (lines id<sep>feature[:weight]..., as fit's --user-features) \
        is represented by the sum of its features' embeddings, rows normalised as fit does and \
        with no identity feature; nothing is retrained. Every feature must be one the model \
        was fitted with. A user the model already knows is scored from the file's features \
        alone.
        """)

    @OptionGroup var model: ModelInput

    @Option(
      name: .long,
      help: ArgumentHelp(
        "The new users' features: id<sep>feature[:weight]... lines ('-' reads standard input).",
        valueName: "file"))
    var features: String

    @OptionGroup var lists: RecommendationOutput

    @OptionGroup var threads: ThreadOptions

    @OptionGroup var memory: MemoryOptions

    @OptionGroup var progress: ProgressOptions

    func run() throws {
      let loaded = try model.load()
      let (ids, rows) = try coldStartRows(
        features, dataset: loaded.dataset, side: .user, label: "recommend")
      let candidates = try lists.candidates(dataset: loaded.dataset)
      try lists.write(
        ids: ids, dataset: loaded.dataset, batchSize: ids.count, label: "recommend"
      ) { _ in
        try loaded.model.recommendForNewUsers(
          features: rows, count: lists.top, itemFeatures: loaded.itemFeatures,
          candidates: candidates, numThreads: threads.count)
      }
      Console.note("recommend: \(ids.count) new user(s) served from their features alone")
    }
  }
}
