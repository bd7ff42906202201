import ArgumentParser
import Foundation
import LightFMKit

/// `lightfm-bench peers`: our side of `scripts/compare-peers`. Runs the protocol the script runs
/// through the Python LightFM and implicit, on the same files, and writes JSON.
///
/// Per data set (MovieLens 100K under LightFM's protocol; the synthetic set read back from the
/// `.npz` files `export-synthetic` wrote) and per loss: one `fit` of `epochs` epochs on
/// `threads` threads (seconds per epoch), then precision@10 and AUC on the test set with the
/// training items excluded (on the synthetic set, for users `u` with `u % evalStride == 0`). For
/// the WARP model: whole-catalog top-10 for every user, training items excluded (median of
/// `repetitions` after a warm-up).
extension LightFMBench {
  struct Peers: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Our side of scripts/compare-peers (writes JSON).")

    @Option(help: "MovieLens 100K folder (ua.base, ua.test); skipped when missing.")
    var data: String = "../shared/data/ml-100k"

    @Option(help: "Folder with train.npz and test.npz from export-synthetic; skipped when absent.")
    var synthetic: String?

    @Option(help: "Epochs per fit on MovieLens.")
    var movieLensEpochs: Int = 10

    @Option(help: "Epochs per fit on the synthetic set.")
    var syntheticEpochs: Int = 2

    @Option(help: "Threads for fitting, ranking and scoring.")
    var threads: Int = 2

    @Option(help: "Evaluate synthetic metrics on users u with u % stride == 0.")
    var evalStride: Int = 20

    @Option(help: "Timed repetitions of the top-10 run.")
    var repetitions: Int = 3

    @Option(help: "Seed of every model.")
    var seed: UInt64 = 7

    @Option(help: "Write the results here.")
    var json: String

    func run() throws {
      try requireRelease()
      var out: [String: PeerResult] = [:]
      let mlDir = URL(fileURLWithPath: data)
      if FileManager.default.fileExists(atPath: mlDir.appendingPathComponent("ua.base").path) {
        let harness = Harness(warmups: 0, repetitions: 1)
        let workloads = Workloads(
          synthetic: .small, movieLens: mlDir, quick: false)
        if let ml = try workloads.movieLens(harness) {
          out["movielens"] = try measure(
            train: ml.train, test: ml.test, d: 30, epochs: movieLensEpochs, stride: 1)
        }
      } else {
        Report.progress("peers: no MovieLens at \(mlDir.path): skipped")
      }
      if let synthetic {
        let dir = URL(fileURLWithPath: synthetic)
        let train = try NPZ.readSparseMatrix(from: dir.appendingPathComponent("train.npz"))
        let test = try NPZ.readSparseMatrix(from: dir.appendingPathComponent("test.npz"))
        out["synthetic"] = try measure(
          train: train, test: test, d: 32, epochs: syntheticEpochs, stride: evalStride)
      }
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(out).write(to: URL(fileURLWithPath: json))
      Report.progress("wrote \(json)")
    }

    struct PeerResult: Codable {
      var users: Int
      var items: Int
      var trainInteractions: Int
      var evaluatedUsers: Int
      var epochs: Int
      var threads: Int
      var losses: [String: LossResult]
      var top10Seconds: Double
      var top10Users: Int
    }

    struct LossResult: Codable {
      var fitSecondsPerEpoch: Double
      var precisionAt10: Double
      var auc: Double
    }

    func measure(
      train: COOMatrix, test: COOMatrix, d: Int, epochs: Int, stride: Int
    ) throws -> PeerResult {
      let trainCSR = try CSRMatrix(train)
      let sampledTest = try sampleRows(test, stride: stride)
      let label = "\(train.shape.rows)×\(train.shape.columns)"
      var losses: [String: LossResult] = [:]
      var warpModel: LightFM?
      for loss in LightFM.Loss.allCases {
        var model = LightFM(noComponents: d, loss: loss, learningRate: 0.05, randomState: seed)
        let seconds = try secondsOf { try model.fit(train, epochs: epochs, numThreads: threads) }
        let ranks = try model.predictRank(
          sampledTest, trainInteractions: trainCSR, numThreads: threads)
        let precision = mean(Evaluation.precisionAtK(ranks: ranks, k: 10))
        let auc = mean(Evaluation.aucScore(ranks: ranks, trainInteractions: trainCSR))
        losses[loss.rawValue] = LossResult(
          fitSecondsPerEpoch: seconds / Double(epochs), precisionAt10: precision, auc: auc)
        Report.progress(
          String(
            format: "peers %@ %@: %.3f s/epoch, precision@10 %.4f, AUC %.4f", label,
            loss.rawValue, seconds / Double(epochs), precision, auc))
        if loss == .warp { warpModel = model }
      }
      let harness = Harness(warmups: 1, repetitions: repetitions)
      let model = warpModel!
      let top10 = try harness.measure("peers", "top-10 \(label)") {
        _ = try model.recommend(count: 10, excluding: trainCSR, numThreads: threads)
      }
      let evaluated = (0..<sampledTest.shape.rows).filter { sampledTest.rowCount($0) > 0 }.count
      return PeerResult(
        users: train.shape.rows, items: train.shape.columns, trainInteractions: train.nnz,
        evaluatedUsers: evaluated, epochs: epochs, threads: threads, losses: losses,
        top10Seconds: top10.median, top10Users: train.shape.rows)
    }

    /// The rows `u % stride == 0` of `m` (the others emptied), as CSR.
    func sampleRows(_ m: COOMatrix, stride: Int) throws -> CSRMatrix {
      var rows: [Int32] = []
      var cols: [Int32] = []
      for n in 0..<m.nnz where Int(m.rowIndices[n]) % stride == 0 {
        rows.append(m.rowIndices[n])
        cols.append(m.columnIndices[n])
      }
      return try CSRMatrix(
        COOMatrix(
          rows: m.shape.rows, columns: m.shape.columns, rowIndices: rows, columnIndices: cols,
          values: [Float](repeating: 1, count: rows.count)))
    }

    func mean(_ x: [Float]) -> Double {
      x.isEmpty ? 0 : x.reduce(0) { $0 + Double($1) } / Double(x.count)
    }
  }
}
