import ArgumentParser
import Foundation
import LightFMKit

/// `lightfm fit`: trains a model on an interactions file and saves it with its mappings.
struct Fit: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a model on an interactions file and save it as a .lfm model file.",
    discussion: """
      Interactions are delimited text (tab, comma, '|' or '::', detected; optional header) with \
      columns user, item, an optional rating or weight and an optional timestamp; ids are \
      strings. A scipy .npz sparse matrix is accepted instead (row and column indices are the \
      ids). Every user and item in the file is mapped, whatever its rating.

      Feature files have lines id<sep>feature[:weight]...; each user or item also keeps a \
      feature of its own (identity), and rows are normalised to sum to 1, as LightFM's Dataset. \
      An .npz feature matrix is used as given, its row r belonging to the id r.

      Defaults differ from the library's (which follow LightFM): WARP loss, 30 components and \
      10 epochs suit ranking.

      Every progress line gives the epoch's mean training loss (the loss's own definition: log \
      loss, BPR's -ln sigma of the difference, WARP's rank-weighted hinge). With --validate, \
      the epochs validated add precision@k, recall@k, AUC and NDCG@k on that file, the \
      training items left out of the ranking; --patience stops when the --monitor metric has \
      not improved in that many evaluations and saves the best epoch's model, not the last.
      """)

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The training interactions: text or .npz ('-' reads standard input; pipes and <(...) "
        + "work).",
      valueName: "file"))
  var train: String

  @Option(
    name: .long,
    help: ArgumentHelp(
      "User features: id<sep>feature[:weight]... lines, or .npz ('-' reads standard input). "
        + "New models only: not with --resume.",
      valueName: "file"))
  var userFeatures: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Item features: id<sep>feature[:weight]... lines, or .npz ('-' reads standard input). "
        + "New models only: not with --resume.",
      valueName: "file"))
  var itemFeatures: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Read the third column of --train and --validate as a rating: lines rated at least R "
        + "become positives of weight 1 and the others are dropped " + RatingOptions.rule,
      valueName: "r"))
  var minRating: Float?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Continue training this saved model on --train instead of starting afresh: new users and "
        + "items are added and the model grows to them, keeping everything it has learned. "
        + "Its own hyper-parameters are kept (only --epochs, --threads and --min-rating apply).",
      valueName: "file"))
  var resume: String?

  @Option(
    name: .long,
    help: ArgumentHelp("The loss function. New models only (--resume keeps the saved one)."))
  var loss: LightFM.Loss = .warp

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The per-parameter learning-rate schedule. New models only (--resume keeps the saved "
        + "one)."))
  var schedule: LightFM.LearningSchedule = .adagrad

  @Option(
    name: .long,
    help: ArgumentHelp("Embedding dimension d. New models only.", valueName: "n"))
  var components: Int = 30

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Initial learning rate; used by --schedule adagrad only. New models only.",
      valueName: "x"))
  var learningRate: Float = 0.05

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Passes over the training data (with --resume: further passes).", valueName: "n"))
  var epochs: Int = 10

  @Option(
    name: .long,
    help: ArgumentHelp("L2 penalty on user features. New models only.", valueName: "x"))
  var userAlpha: Float = 0

  @Option(
    name: .long,
    help: ArgumentHelp("L2 penalty on item features. New models only.", valueName: "x"))
  var itemAlpha: Float = 0

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Most negatives sampled per positive; --loss warp and warp-kos only. New models only.",
      valueName: "n"))
  var maxSampled: Int = 10

  @Option(
    name: .customLong("kos-k"),
    help: ArgumentHelp(
      "The k-th highest scored positive is used; --loss warp-kos only. New models only.",
      valueName: "k"))
  var kosK: Int = 5

  @Option(
    name: .customLong("kos-n"),
    help: ArgumentHelp(
      "Positives sampled per example; --loss warp-kos only. New models only.", valueName: "n"))
  var kosN: Int = 10

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Decay rho; --schedule adadelta only. New models only.", valueName: "x"))
  var rho: Float = 0.95

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Epsilon; --schedule adadelta only. New models only.", valueName: "x"))
  var epsilon: Float = 1e-6

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Random seed; with --threads 1 training is reproducible bit for bit (default: random). "
        + "New models only: --resume continues the saved model's generator.",
      valueName: "n"))
  var seed: UInt64?

  @OptionGroup var threads: ThreadOptions

  @OptionGroup var memory: MemoryOptions

  @OptionGroup var progress: ProgressOptions

  @Option(
    name: .customLong("validate"),
    help: ArgumentHelp(
      "Held-out interactions (text or .npz; '-' reads standard input) to evaluate while "
        + "training; users and items the training file does not have are skipped.",
      valueName: "file"))
  var validationFile: String?

  @Option(
    name: .long,
    help: ArgumentHelp("Evaluate --validate every n epochs (with --validate only).", valueName: "n"))
  var validateEvery: Int = 1

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The cut-off k of the validation metrics (with --validate only).", valueName: "k"))
  var validateK: Int = 10

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Stop after p evaluations without improvement of --monitor, keeping the best epoch "
        + "(with --validate only).",
      valueName: "p"))
  var patience: Int?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The validation metric --patience watches and the best epoch is picked by (with "
        + "--validate only)."))
  var monitor: MonitoredMetric = .precision

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Write one row per evaluation (every epoch without --validate): epoch, seconds, loss, "
        + "k and the metrics; CSV, or JSON lines if the name ends in .jsonl.",
      valueName: "file"))
  var history: String?

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Where to write the model (.lfm); written whole or not at all (with --resume it may be "
        + "the resumed file).",
      valueName: "file"))
  var model: String

  func validate() throws {
    try RatingOptions.validate(minRating)
    if components < 1 { throw ValidationError("--components must be at least 1") }
    if epochs < 1 { throw ValidationError("--epochs must be at least 1") }
    if !(learningRate.isFinite && learningRate > 0) {
      throw ValidationError("--learning-rate must be a finite number > 0")
    }
    if !(userAlpha.isFinite && userAlpha >= 0) || !(itemAlpha.isFinite && itemAlpha >= 0) {
      throw ValidationError("--user-alpha and --item-alpha must be finite numbers >= 0")
    }
    if maxSampled < 1 { throw ValidationError("--max-sampled must be at least 1") }
    if kosK < 1 || kosN < 1 { throw ValidationError("--kos-k and --kos-n must be at least 1") }
    if !(rho > 0 && rho < 1) { throw ValidationError("--rho must be in (0, 1)") }
    if !(epsilon.isFinite && epsilon > 0) { throw ValidationError("--epsilon must be > 0") }
    if validateEvery < 1 { throw ValidationError("--validate-every must be at least 1") }
    if validateK < 1 { throw ValidationError("--validate-k must be at least 1") }
    if let patience, patience < 1 { throw ValidationError("--patience must be at least 1") }
    if validationFile == nil && patience != nil {
      throw ValidationError("--patience needs --validate: it watches the validation metric")
    }
    if resume != nil && (userFeatures != nil || itemFeatures != nil) {
      throw ValidationError(
        "--resume keeps the saved feature matrices: drop --user-features and --item-features")
    }
  }

  func run() throws {
    let started = Date()
    var (estimator, data) = try resume.map { try resumed($0) } ?? fresh()
    let validation = try validationFile.map { try validationSet($0, data: data) }
    let historyFile = try history.map {
      try HistoryFile(path: $0, everyEpoch: validationFile == nil)
    }
    do {
      try ConsoleTraining.train(
        &estimator, data: data, epochs: epochs, threads: threads.count, label: "fit",
        resuming: resume != nil, validation: validation, history: historyFile)
    } catch let error as LightFMError where error.message.hasPrefix("the validation") {
      throw LightFMError(error.kind, "\(validationFile ?? ""): \(error.message)")
    }
    try estimator.save(
      to: URL(fileURLWithPath: model), dataset: data.dataset,
      userFeatures: data.userFeatures, itemFeatures: data.itemFeatures)
    Console.note(
      "fit: wrote \(model) in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
  }

  /// `--validate` read through the training data's mappings.
  func validationSet(_ path: String, data: TrainingData) throws -> TrainingValidation {
    let (matrix, _) = try EvaluationReport.knownMatrix(
      path, role: "validation", dataset: data.dataset, minRating: minRating,
      label: "fit")
    guard matrix.nnz > 0 else {
      throw LightFMError.invalidData(
        "\(path): no validation interactions between users and items of --train"
          + (minRating.map { " with a rating of at least \($0)" } ?? ""))
    }
    return TrainingValidation(
      matrix, k: validateK, every: validateEvery, patience: patience, monitor: monitor.metric)
  }

  /// A new model with the options' hyper-parameters, and the files mapped through a new
  /// `Dataset`.
  func fresh() throws -> (LightFM, TrainingData) {
    let data = try TrainingData.load(
      train: train, userFeatures: userFeatures, itemFeatures: itemFeatures,
      minRating: minRating)
    let shape = data.dataset.interactionsShape
    let features = (data.dataset.userFeatureNames.count, data.dataset.itemFeatureNames.count)
    Console.note(
      "fit: \(shape.rows) users, \(shape.columns) items, \(data.interactions.nnz) positives "
        + "(\(features.0) user and \(features.1) item features)")
    try LoadLimits.default.requireModel(
      rows: features.0 + features.1, components: components, "--components \(components)")
    let estimator = LightFM(
      noComponents: components, k: kosK, n: kosN, learningSchedule: schedule, loss: loss,
      learningRate: learningRate, rho: rho, epsilon: epsilon, itemAlpha: itemAlpha,
      userAlpha: userAlpha, maxSampled: maxSampled, randomState: seed)
    try estimator.validateHyperParameters()
    return (estimator, data)
  }
}

/// Interactions and features read from files and mapped through one `Dataset`.
struct TrainingData {
  var dataset: Dataset
  /// 1 at each positive (user, item).
  var interactions: COOMatrix
  /// The sample weight of each positive, same coordinates.
  var weights: COOMatrix
  /// `nil` for identity features.
  var userFeatures: CSRMatrix?
  var itemFeatures: CSRMatrix?

  static func load(
    train: String, userFeatures: String?, itemFeatures: String?, minRating: Float?
  ) throws -> TrainingData {
    let input = try InteractionInput(path: train)
    let positives = try input.trainingPositives(minRating: minRating)
    let userInput = try userFeatures.map { try FeatureInput(path: $0) }
    let itemInput = try itemFeatures.map { try FeatureInput(path: $0) }

    // Ids in order of first appearance: the interactions, then ids only in feature files.
    var users = IDMapping(input.columns.userIDs)
    var items = IDMapping(input.columns.itemIDs)
    for id in userInput?.ids ?? [] { users.insert(id) }
    for id in itemInput?.ids ?? [] { items.insert(id) }

    var dataset = Dataset(
      userIdentityFeatures: !(userInput?.isMatrix ?? false),
      itemIdentityFeatures: !(itemInput?.isMatrix ?? false))
    do {
      try dataset.fit(
        users: users.ids, items: items.ids,
        userFeatures: userInput?.featureNames ?? [], itemFeatures: itemInput?.featureNames ?? [])
    } catch let error as LightFMError {
      let files = [train, userFeatures, itemFeatures].compactMap { $0 }.joined(separator: ", ")
      throw LightFMError(error.kind, "\(files): \(error.message)")
    }
    // Every id of the file is in the dataset: nothing is left out.
    let weights = try input.matrix(positives, dataset: dataset).matrix
    let interactions = try weights.withValues([Float](repeating: 1, count: weights.nnz))
    return TrainingData(
      dataset: dataset, interactions: interactions, weights: weights,
      userFeatures: try userInput?.matrix(side: .user, dataset: dataset),
      itemFeatures: try itemInput?.matrix(side: .item, dataset: dataset))
  }
}

/// `--monitor`: a validation metric by its short name.
enum MonitoredMetric: String, CaseIterable, ExpressibleByArgument {
  case precision = "precision@k"
  case recall = "recall@k"
  case auc
  case ndcg = "ndcg@k"

  /// Also accepts the history's column names (`precision_at_k`, …) and the bare names.
  init?(argument: String) {
    let name = argument.lowercased()
    guard
      let match = Self.allCases.first(where: {
        [$0.rawValue, $0.metric.rawValue, "\($0)"].contains(name)
      })
    else { return nil }
    self = match
  }

  var metric: ValidationMetric {
    switch self {
    case .precision: .precisionAtK
    case .recall: .recallAtK
    case .auc: .auc
    case .ndcg: .ndcgAtK
    }
  }
}
