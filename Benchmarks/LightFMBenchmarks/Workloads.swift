import Foundation
import LightFMKit
import _LightFMTestSupport

/// The data sets the suites share, built once on first use.
final class Workloads {
  let syntheticConfiguration: Synthetic.Configuration
  let movieLensDirectory: URL
  let quick: Bool

  init(synthetic: Synthetic.Configuration, movieLens: URL, quick: Bool) {
    self.syntheticConfiguration = synthetic
    self.movieLensDirectory = movieLens
    self.quick = quick
  }

  /// The synthetic set with CSR views of train and test.
  struct SyntheticSet {
    let data: Synthetic.DataSet
    let trainCSR: CSRMatrix
    let testCSR: CSRMatrix
    let seconds: Double
  }

  private var cachedSynthetic: SyntheticSet?

  /// Generates (once) the synthetic set and reports how long it took.
  func synthetic(_ harness: Harness) throws -> SyntheticSet {
    if let cachedSynthetic { return cachedSynthetic }
    let c = syntheticConfiguration
    Report.progress("generating synthetic \(c.users) × \(c.items), ~\(c.interactions) ...")
    var data: Synthetic.DataSet?
    let seconds = secondsOf { data = Synthetic.generate(c) }
    let set = SyntheticSet(
      data: data!, trainCSR: try CSRMatrix(data!.train), testCSR: try CSRMatrix(data!.test),
      seconds: seconds)
    harness.fact(
      "data",
      String(
        format: "synthetic %d users × %d items: %d train + %d test interactions, generated in "
          + "%.2f s (seed %llu)", c.users, c.items, set.data.train.nnz, set.data.test.nnz,
        seconds, c.seed))
    cachedSynthetic = set
    return set
  }

  /// MovieLens 100K under LightFM's protocol: ua.base to train, ua.test to test, ratings ≥ 4 are
  /// the positives (value 1), 943 users × 1682 items.
  struct MovieLensSet {
    let train: COOMatrix
    let test: COOMatrix
    let trainCSR: CSRMatrix
    let testCSR: CSRMatrix
  }

  private var cachedMovieLens: MovieLensSet?
  private var movieLensMissing = false

  /// The MovieLens set, or `nil` (with a note) when the folder is missing.
  func movieLens(_ harness: Harness) throws -> MovieLensSet? {
    if let cachedMovieLens { return cachedMovieLens }
    if movieLensMissing { return nil }
    var dir = movieLensDirectory
    if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("ua.base").path) {
      guard let found = MovieLens.directory() else {
        harness.fact("data", "MovieLens 100K not found at \(dir.path): MovieLens cases skipped")
        movieLensMissing = true
        return nil
      }
      dir = found
    }
    let train = try MovieLens.positives("ua.base", in: dir)
    let test = try MovieLens.positives("ua.test", in: dir)
    let set = MovieLensSet(
      train: train, test: test, trainCSR: try CSRMatrix(train), testCSR: try CSRMatrix(test))
    harness.fact(
      "data",
      "MovieLens 100K (\(dir.path)): ratings ≥ 4, \(train.nnz) train (ua.base) + "
        + "\(test.nnz) test (ua.test) positives")
    cachedMovieLens = set
    return set
  }
}

/// What every suite needs.
final class BenchContext {
  let harness: Harness
  let workloads: Workloads
  /// d for scoring and the synthetic training.
  let components: Int
  /// Worker threads for scoring and evaluation.
  let threads: Int
  let quick: Bool
  /// Trained models by name, shared across suites.
  var models: [String: LightFM] = [:]
  /// Lines of the loading suite's text file.
  var loadingLines = 200_000
  /// Where the loading suite keeps its files.
  var loadingDirectory = ".peers/loading"
  /// The largest loading file whose `.npz` is read.
  var npzLines = 200_000

  init(harness: Harness, workloads: Workloads, components: Int, threads: Int, quick: Bool) {
    self.harness = harness
    self.workloads = workloads
    self.components = components
    self.threads = threads
    self.quick = quick
  }
}

// MARK: - Trained models shared by the scoring and evaluation suites

extension BenchContext {
  /// Epochs of the shared synthetic WARP model.
  var syntheticEpochs: Int { quick ? 5 : 2 }

  /// A WARP model with d = `components` trained on the synthetic train set (once per run).
  func trainedSyntheticModel() throws -> LightFM {
    if let model = models["synthetic"] { return model }
    let set = try workloads.synthetic(harness)
    var model = LightFM(noComponents: components, loss: .warp, randomState: 7)
    let seconds = try secondsOf {
      try model.fit(set.data.train, epochs: syntheticEpochs, numThreads: threads)
    }
    harness.fact(
      "models",
      String(
        format: "synthetic WARP d=%d: %d epochs on %d threads in %.1f s", components,
        syntheticEpochs, threads, seconds))
    models["synthetic"] = model
    return model
  }

  /// LightFM's MovieLens protocol model: WARP, d = 30, lr 0.05, 10 epochs, 1 thread, seed 7.
  func trainedMovieLensModel(_ set: Workloads.MovieLensSet) throws -> LightFM {
    if let model = models["movielens"] { return model }
    var model = LightFM(noComponents: 30, loss: .warp, learningRate: 0.05, randomState: 7)
    let seconds = try secondsOf { try model.fit(set.train, epochs: 10, numThreads: 1) }
    harness.fact(
      "models", String(format: "MovieLens WARP d=30: 10 epochs on 1 thread in %.2f s", seconds))
    models["movielens"] = model
    return model
  }
}

/// Uniform random floats in [−scale, scale) from a fixed seed, for kernel inputs.
func randomFloats(_ count: Int, scale: Float = 1, seed: UInt64 = 1) -> [Float] {
  var rng = SplitMix64(seed: seed)
  return (0..<count).map { _ in Float(rng.nextUnit() * 2 - 1) * scale }
}
