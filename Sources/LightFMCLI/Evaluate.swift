import ArgumentParser
import Foundation
import LightFMKit

/// `lightfm evaluate`: ranking metrics of a saved model on held-out interactions.
struct Evaluate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print precision@k, recall@k, AUC, reciprocal rank, NDCG@k, MAP@k and coverage.",
    discussion: """
      Every test interaction is ranked among the items the user did not train on (LightFM's \
      predict_rank; pass --train to leave the training items out). Metrics are means over the \
      users with test interactions. Coverage is the share of the catalog found in those users' \
      top-k lists. --no-item-bias and --popularity-penalty rank by the adjusted scores, as \
      recommend does with them. Test lines whose user or item the model does not know are \
      skipped, with a note on standard error.
      """)

  @OptionGroup var model: ModelInput

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The test interactions: text or .npz ('-' reads standard input).", valueName: "file"))
  var test: String

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The training interactions, left out of the ranking: text or .npz ('-' reads standard "
        + "input).",
      valueName: "file"))
  var train: String?

  @Option(
    name: .customLong("k"),
    help: ArgumentHelp("The cut-off k of precision@k, recall@k and NDCG@k.", valueName: "k"))
  var k: Int = 10

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Read the third column of --test and --train as a rating: only lines rated at least R "
        + "are test positives, and only they are left out of the ranking as training items "
        + RatingOptions.rule,
      valueName: "r"))
  var minRating: Float?

  @OptionGroup var popularity: PopularityOptions

  @Flag(name: .long, help: "Print one JSON object instead of text.")
  var json = false

  @OptionGroup var threads: ThreadOptions

  @OptionGroup var memory: MemoryOptions

  @OptionGroup var progress: ProgressOptions

  func validate() throws {
    try RatingOptions.validate(minRating)
    if k < 1 { throw ValidationError("--k must be at least 1") }
    try popularity.checkSource(hasTraining: train != nil, trainingOption: "--train")
  }

  func run() throws {
    let loaded = try model.load()
    let report = try EvaluationReport.compute(
      loaded, test: test, train: train, k: k, minRating: minRating,
      popularity: popularity, threads: threads.count)
    try Console.result(json ? report.json : report.text)
  }
}

/// The metrics `evaluate` and `demo` print.
struct EvaluationReport {
  var k: Int
  var precision: Double
  var recall: Double
  var auc: Double
  var reciprocalRank: Double
  var ndcg: Double
  var map: Double
  /// Distinct items in the users' top-k lists over the catalog size.
  var coverage: Double
  /// Users with at least one test interaction.
  var users: Int
  var testInteractions: Int
  var skippedInteractions: Int

  static func compute(
    _ loaded: LoadedModel, test: String, train: String?, k: Int, minRating: Float?,
    popularity: PopularityOptions, threads: Int
  ) throws -> EvaluationReport {
    let testMatrix = try knownMatrix(
      test, role: "test", dataset: loaded.dataset, minRating: minRating)
    let trainMatrix = try train.map {
      try knownMatrix($0, role: "train", dataset: loaded.dataset, minRating: minRating).matrix
    }
    guard testMatrix.matrix.nnz > 0 else {
      throw LightFMError.invalidData(
        "\(test): no test interactions the model knows"
          + (minRating.map { " with a rating of at least \($0)" } ?? ""))
    }
    let control = try popularity.control(
      dataset: loaded.dataset, training: trainMatrix, minRating: minRating, label: "evaluate")
    var report = try compute(
      loaded.model, test: testMatrix.matrix, train: trainMatrix, k: k,
      userFeatures: loaded.userFeatures, itemFeatures: loaded.itemFeatures,
      popularity: control, threads: threads)
    report.skippedInteractions = testMatrix.skipped
    return report
  }

  /// Every metric from one ranking (`Evaluation.metrics`), averaged over the users.
  static func compute(
    _ model: LightFM, test: COOMatrix, train: COOMatrix?, k: Int,
    userFeatures: CSRMatrix?, itemFeatures: CSRMatrix?, popularity: PopularityControl = .none,
    threads: Int
  ) throws -> EvaluationReport {
    let metrics = try Evaluation.metrics(
      model, testInteractions: test, trainInteractions: train, k: k, userFeatures: userFeatures,
      itemFeatures: itemFeatures, numThreads: threads, popularity: popularity)
    return EvaluationReport(
      k: k, precision: metrics.mean(\.precisionAtK), recall: metrics.mean(\.recallAtK),
      auc: metrics.mean(\.auc), reciprocalRank: metrics.mean(\.reciprocalRank),
      ndcg: metrics.mean(\.ndcgAtK), map: metrics.mean(\.averagePrecisionAtK),
      coverage: metrics.coverage ?? .nan, users: metrics.users,
      testInteractions: metrics.testInteractions, skippedInteractions: 0)
  }

  /// Reads an interactions file into a matrix of the model's shape, skipping unknown ids (with
  /// a note that starts with `label`).
  static func knownMatrix(
    _ path: String, role: String, dataset: Dataset, minRating: Float?,
    label: String = "evaluate"
  ) throws -> (matrix: COOMatrix, skipped: Int) {
    let input = try InteractionInput(path: path)
    let read = try input.matrix(try input.positives(minRating: minRating), dataset: dataset)
    if let first = read.firstUnknown {
      let (user, item) = input.ids(first)
      Console.note(
        "\(label): skipped \(read.unknown) \(role) interaction(s) whose user or item the model "
          + "does not know (first at \(input.location(first)): user '\(user)', item "
          + "'\(item)')")
    }
    return (read.matrix, read.unknown)
  }

  var text: String {
    func line(_ label: String, _ value: String) -> String {
      label.padding(toLength: 20, withPad: " ", startingAt: 0) + value
    }
    func f(_ x: Double) -> String { String(format: "%.4f", x) }
    var lines = [
      line("precision@\(k)", f(precision)),
      line("recall@\(k)", f(recall)),
      line("AUC", f(auc)),
      line("reciprocal rank", f(reciprocalRank)),
      line("NDCG@\(k)", f(ndcg)),
      line("MAP@\(k)", f(map)),
      line("coverage", f(coverage)),
      line("users", "\(users)"),
      line("test interactions", "\(testInteractions)"),
    ]
    if skippedInteractions > 0 { lines.append(line("skipped", "\(skippedInteractions)")) }
    return lines.joined(separator: "\n")
  }

  var json: String {
    let fields: [(String, String)] = [
      ("k", "\(k)"),
      ("precision_at_k", jsonNumber(precision)),
      ("recall_at_k", jsonNumber(recall)),
      ("auc", jsonNumber(auc)),
      ("reciprocal_rank", jsonNumber(reciprocalRank)),
      ("ndcg_at_k", jsonNumber(ndcg)),
      ("map_at_k", jsonNumber(map)),
      ("coverage", jsonNumber(coverage)),
      ("users", "\(users)"),
      ("test_interactions", "\(testInteractions)"),
      ("skipped_interactions", "\(skippedInteractions)"),
    ]
    return "{" + fields.map { "\(jsonString($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
  }
}
