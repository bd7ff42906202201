import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// Validation while training (`TrainingValidation`): the scores, their schedule, early
/// stopping that keeps the best epoch, and bad arguments.
final class ValidationTests: XCTestCase {
  func testEarlyStoppingKeepsTheBestEpoch() throws {
    // BPR at a learning rate ten times the default: precision@5 climbs for a few epochs, then
    // wanders down while the training loss keeps falling.
    let data = Synthetic.generate(.small)
    let base = LightFM(noComponents: 16, loss: .bpr, learningRate: 0.5, randomState: 1)
    var model = base
    let validation = TrainingValidation(data.test, k: 5, patience: 2)
    let history = try model.fit(data.train, epochs: 20, validation: validation)

    let precision = history.epochs.map { $0.validation!.precisionAtK }
    let best = try XCTUnwrap(history.bestEpoch)
    XCTAssertTrue(history.stoppedEarly, "\(precision)")
    XCTAssertEqual(history.epochs.count, best + 2, "stopped after 2 evaluations without gain")
    XCTAssertEqual(precision.firstIndex(of: precision.max()!)! + 1, best, "\(precision)")
    XCTAssertLessThan(precision.last!, precision[best - 1], "the metric fell after its peak")
    XCTAssertEqual(history.keptEpoch, best)
    XCTAssertEqual(history.epochs.last?.bestEpoch, best)

    // The kept parameters are the best epoch's: re-evaluated, they give its precision ...
    let again = try Evaluation.precisionAtK(
      model, testInteractions: data.test, trainInteractions: data.train, k: 5, numThreads: 1)
    XCTAssertEqual(mean(again), precision[best - 1], accuracy: 1e-12)
    // ... and they are, bit for bit, those of a fit of that many epochs (one thread, a seed),
    // generator included.
    var reference = base
    try reference.fit(data.train, epochs: best)
    XCTAssertTrue(model.parameters == reference.parameters, "best epoch \(best)")
    XCTAssertEqual(model.generator, reference.generator)
  }

  func testScoresEveryNEpochsAndAfterTheLast() throws {
    let data = Synthetic.generate(.small)
    var model = LightFM(noComponents: 8, loss: .warp, randomState: 3)
    var reports: [TrainingProgress] = []
    let history = try model.fit(
      data.train, epochs: 5, numThreads: 2,
      validation: TrainingValidation(data.test, k: 7, every: 2, monitor: .auc)
    ) {
      reports.append($0)
      return .continue
    }
    XCTAssertEqual(history.epochs, reports)
    XCTAssertEqual(history.evaluations.map(\.epoch), [2, 4, 5])
    XCTAssertFalse(history.stoppedEarly)
    XCTAssertEqual(history.keptEpoch, 5, "without patience the last epoch is kept")
    let aucs = history.evaluations.map { $0.validation!.auc }
    XCTAssertEqual(history.bestEpoch, history.evaluations[aucs.firstIndex(of: aucs.max()!)!].epoch)
    XCTAssertTrue(reports.allSatisfy { $0.loss != nil }, "validation reads the loss")

    // The last scores are the model's, as Evaluation computes them with the training items
    // left out.
    let last = try XCTUnwrap(reports.last?.validation)
    let m = try Evaluation.metricsForTest(model, data.test, data.train, k: 7)
    XCTAssertEqual(last.k, 7)
    XCTAssertEqual(last.precisionAtK, m.precision, accuracy: 1e-9)
    XCTAssertEqual(last.recallAtK, m.recall, accuracy: 1e-9)
    XCTAssertEqual(last.auc, m.auc, accuracy: 1e-9)
    XCTAssertEqual(last.ndcgAtK, m.ndcg, accuracy: 1e-9)
    XCTAssertEqual(last.users, m.users)
    XCTAssertGreaterThan(last.auc, 0.8)
    let line = reports.last!.description
    for label in ["loss ", "precision@7 ", "recall@7 ", "AUC ", "NDCG@7 "] {
      XCTAssertTrue(line.contains(label), line)
    }
    XCTAssertFalse(reports[0].description.contains("AUC"), "epoch 1 is not evaluated")
  }

  func testBadValidationArgumentsFailBeforeTraining() throws {
    let data = Synthetic.generate(.small)
    let overlapping = try COOMatrix(
      rows: data.train.shape.rows, columns: data.train.shape.columns,
      rowIndices: [data.train.rowIndices[0]], columnIndices: [data.train.columnIndices[0]],
      values: [1])
    let narrow = try COOMatrix(
      rows: data.train.shape.rows, columns: data.train.shape.columns - 1,
      rowIndices: [0], columnIndices: [0], values: [1])
    let cases: [(TrainingValidation, String)] = [
      (TrainingValidation(data.test, k: 0), "validation.k"),
      (TrainingValidation(data.test, every: 0), "validation.every"),
      (TrainingValidation(data.test, patience: 0), "validation.patience"),
      (TrainingValidation(overlapping), "share 1 interactions"),
      (TrainingValidation(narrow), "columns"),
    ]
    for (validation, expected) in cases {
      var model = LightFM(loss: .warp, randomState: 1)
      XCTAssertThrowsError(try model.fit(data.train, epochs: 1, validation: validation)) {
        XCTAssertTrue("\($0)".contains(expected), "\($0)")
      }
      XCTAssertFalse(model.isFitted, expected)
    }
  }
}

extension Evaluation {
  /// The four validation metrics of `model`, each from its own `Evaluation` function.
  static func metricsForTest(
    _ model: LightFM, _ test: COOMatrix, _ train: COOMatrix, k: Int
  ) throws -> (precision: Double, recall: Double, auc: Double, ndcg: Double, users: Int) {
    let p = try precisionAtK(model, testInteractions: test, trainInteractions: train, k: k)
    let r = try recallAtK(model, testInteractions: test, trainInteractions: train, k: k)
    let a = try aucScore(model, testInteractions: test, trainInteractions: train)
    let n = try ndcgAtK(model, testInteractions: test, trainInteractions: train, k: k)
    return (mean(p), mean(r), mean(a), mean(n), p.count)
  }
}

/// The mean of `values`, in Double.
private func mean(_ values: [Float]) -> Double {
  values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
}
