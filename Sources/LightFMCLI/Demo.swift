import ArgumentParser
import Foundation
import LightFMKit

/// `lightfm demo`: train and evaluate on a built-in catalog, then recommend by name.
struct Demo: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train and evaluate on a built-in record-shop catalog; print recommendations.",
    discussion: """
      The catalog has 480 albums in 8 genres and 2,000 listeners who each favour one or two \
      genres (85% of their purchases). 20% of the purchases are held out; the model trains on \
      the rest with the albums' genres as item features, is evaluated on the held-out part \
      (against a popularity ranking), and recommends albums to a few listeners by name. \
      --data-dir writes the catalog as files the other commands read.
      """)

  @Option(name: .long, help: ArgumentHelp("Training seed.", valueName: "n"))
  var seed: UInt64 = 42

  @Option(name: .long, help: ArgumentHelp("Training epochs.", valueName: "n"))
  var epochs: Int = 20

  @Option(name: .long, help: ArgumentHelp("Embedding dimension d.", valueName: "n"))
  var components: Int = 32

  @Option(name: .long, help: "The loss function.")
  var loss: LightFM.Loss = .warp

  @Flag(name: .long, help: "Train without the genre features (pure collaborative filtering).")
  var noFeatures = false

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Also write the catalog here: train.csv, test.csv, album_names.csv, album_genres.csv.",
      valueName: "dir"))
  var dataDir: String?

  @Option(
    name: .long, help: ArgumentHelp("Also save the trained model here (.lfm).", valueName: "file"))
  var model: String?

  @OptionGroup var threads: ThreadOptions

  @OptionGroup var progress: ProgressOptions

  func validate() throws {
    if epochs < 1 { throw ValidationError("--epochs must be at least 1") }
    if components < 1 { throw ValidationError("--components must be at least 1") }
  }

  func run() throws {
    let started = Date()
    let catalog = DemoCatalog()
    var dataset = Dataset()
    try dataset.fit(
      users: catalog.listeners.map(\.id), items: catalog.albums.map(\.id),
      itemFeatures: noFeatures ? [] : DemoCatalog.genres.map { "genre:" + $0 })
    let purchases = try dataset.buildInteractions(
      catalog.purchases.map { (catalog.listeners[$0.user].id, catalog.albums[$0.item].id) }
    ).interactions
    // Hold out 20% of the purchases at random (fixed seed: the same split every run).
    let (train, test) = try CrossValidation.randomTrainTestSplit(
      interactions: purchases, testPercentage: 0.2, randomState: 2024)
    let itemFeatures =
      noFeatures
      ? nil
      : try dataset.buildItemFeatures(
        catalog.albums.map { ($0.id, ["genre:" + DemoCatalog.genres[$0.genre]]) })

    try Console.result(
      "Catalog: \(catalog.albums.count) albums in \(DemoCatalog.genres.count) genres, "
        + "\(catalog.listeners.count) listeners, \(catalog.purchases.count) purchases "
        + "(\(train.nnz) to train on, \(test.nnz) held out)")
    var estimator = LightFM(
      noComponents: components, loss: loss, learningRate: 0.05, randomState: seed)
    let data = TrainingData(
      dataset: dataset, interactions: train, weights: train, userFeatures: nil,
      itemFeatures: itemFeatures)
    let trainingStarted = Date()
    try ConsoleTraining.train(
      &estimator, data: data, epochs: epochs, threads: threads.count, label: "demo")
    let trainingSeconds = Date().timeIntervalSince(trainingStarted)
    try Console.result(
      "Trained \(loss.rawValue.uppercased()), d = \(components), \(epochs) epochs"
        + (noFeatures ? "" : ", genres as item features")
        + " in \(String(format: "%.2f", trainingSeconds)) s")

    let report = try EvaluationReport.compute(
      estimator, test: test, train: train, k: 10, userFeatures: nil, itemFeatures: itemFeatures,
      threads: threads.count)
    let baseline = popularityPrecision(train: train, test: test, k: 10)
    try Console.result(
      "\nHeld-out purchases (\(report.users) listeners), train purchases excluded:")
    try Console.result(report.text)
    try Console.result(
      "popularity ranking: precision@10 \(String(format: "%.4f", baseline)) "
        + "(the model: \(String(format: "%.4f", report.precision)))")

    // Recommendations for the named listeners, with the share from their favourite genres.
    let named = DemoCatalog.named.map { dataset.userIDs[$0.id]! }
    let lists = try estimator.recommend(
      users: named, count: 5, excluding: train.toCSR(), itemFeatures: itemFeatures,
      numThreads: threads.count)
    for (position, list) in lists.enumerated() {
      let listener = catalog.listeners[named[position]]
      let favourites = listener.favourites.map { DemoCatalog.genres[$0] }
      let hits = list.filter { listener.favourites.contains(catalog.albums[$0.index].genre) }.count
      try Console.result(
        "\n\(listener.id) (favourite genres: \(favourites.joined(separator: " + "))) — "
          + "\(hits) of \(list.count) recommendations from them:")
      for (rank, entry) in list.enumerated() {
        let album = catalog.albums[entry.index]
        try Console.result(
          "  \(rank + 1). \(album.name) [\(DemoCatalog.genres[album.genre])]"
            + "  score \(String(format: "%.3f", entry.score))")
      }
    }
    let query = catalog.albums[0]
    let similar = try estimator.similarItems(to: 0, count: 5, itemFeatures: itemFeatures)
    try Console.result(
      "\nAlbums most like \(query.name) [\(DemoCatalog.genres[query.genre])]:")
    for entry in similar {
      let album = catalog.albums[entry.index]
      try Console.result(
        "  \(album.name) [\(DemoCatalog.genres[album.genre])]"
          + "  cosine \(String(format: "%.3f", entry.score))")
    }

    if let dataDir {
      try writeData(catalog, dataset: dataset, train: train, test: test, to: dataDir)
    }
    if let model {
      try estimator.save(
        to: URL(fileURLWithPath: model), dataset: dataset, itemFeatures: itemFeatures)
      Console.note("demo: wrote \(model)")
    }
    try Console.result(
      "\nDone in \(String(format: "%.1f", Date().timeIntervalSince(started))) s.")
  }

  /// Mean precision@k of recommending the most-bought albums not yet bought.
  func popularityPrecision(train: COOMatrix, test: COOMatrix, k: Int) -> Double {
    let counts = PopularityControl.itemCounts(train)
    let order = counts.indices.sorted { (counts[$0], -$0) > (counts[$1], -$1) }
    let trainCSR = train.toCSR()
    let testCSR = test.toCSR()
    var total = 0.0
    var users = 0
    for u in 0..<testCSR.shape.rows where testCSR.rowCount(u) > 0 {
      var hits = 0
      var taken = 0
      for item in order where !trainCSR.contains(row: u, column: item) {
        if testCSR.contains(row: u, column: item) { hits += 1 }
        taken += 1
        if taken == k { break }
      }
      total += Double(hits) / Double(k)
      users += 1
    }
    return users == 0 ? 0 : total / Double(users)
  }

  func writeData(
    _ catalog: DemoCatalog, dataset: Dataset, train: COOMatrix, test: COOMatrix, to dir: String
  ) throws {
    let directory = URL(fileURLWithPath: dir)
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      throw LightFMError(.io, "\(dir): cannot create the directory")
    }
    func csv(_ m: COOMatrix) -> String {
      "user,item\n"
        + (0..<m.nnz).map { n in
          let e = m[entry: n]
          return "\(dataset.userIDs.id(at: e.row)),\(dataset.itemIDs.id(at: e.column))\n"
        }.joined()
    }
    let files: [(String, String)] = [
      ("train.csv", csv(train)),
      ("test.csv", csv(test)),
      ("album_names.csv", catalog.albums.map { "\($0.id),\($0.name)\n" }.joined()),
      (
        "album_genres.csv",
        catalog.albums.map { "\($0.id),genre:\(DemoCatalog.genres[$0.genre])\n" }.joined()
      ),
    ]
    for (name, text) in files {
      try AtomicFileWriter.write(Array(text.utf8), to: directory.appendingPathComponent(name))
    }
    Console.note("demo: wrote the catalog to \(dir)")
  }
}
