import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// The mean loss per epoch (`TrainingProgress.loss`): each loss against a hand computation on
/// a tiny case, from the parameters before the epoch, on one thread with a fixed seed.
final class TrainingLossTests: XCTestCase, TrainingFixtures {
  // MARK: - Helpers

  /// The loss reported for one `fitPartial` epoch.
  func epochLoss(
    _ model: inout LightFM, _ x: COOMatrix, sampleWeight: COOMatrix? = nil
  ) throws -> Double {
    var reports: [TrainingProgress] = []
    try model.fitPartial(x, sampleWeight: sampleWeight, epochs: 1) {
      reports.append($0)
      return .continue
    }
    XCTAssertEqual(reports.count, 1)
    return try XCTUnwrap(reports.first?.loss)
  }

  /// p·q in Double (biases start at 0, so this is the whole score before the first epoch).
  func dot(_ a: [Float], _ b: [Float]) -> Double {
    zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
  }

  func softplus(_ x: Double) -> Double { log(1 + exp(x)) }

  // MARK: - Each loss by hand

  func testLogisticLossIsTheLogLossOfTheScoreBeforeTheStep() throws {
    let d = 3
    // A positive of weight 3, and separately a negative: one example per epoch each.
    let positive = try coo(1, 2, [(0, 0, 1)])
    let weights = try coo(1, 2, [(0, 0, 3)])
    let logistic = LightFM(noComponents: d, loss: .logistic, randomState: 3)
    var (model, p0) = try initial(logistic, positive)
    let s = dot(p0.users.embeddings, row(p0.items.embeddings, 0, d))
    let loss = try epochLoss(&model, positive, sampleWeight: weights)
    XCTAssertEqual(loss, 3 * -log(1 / (1 + exp(-s))), accuracy: 1e-6)
    XCTAssertEqual(loss, 3 * softplus(-s), accuracy: 1e-6)

    let negative = try coo(1, 2, [(0, 1, -1)])
    var (other, q0) = try initial(logistic, negative)
    let t = dot(q0.users.embeddings, row(q0.items.embeddings, 1, d))
    XCTAssertEqual(try epochLoss(&other, negative), -log(1 - 1 / (1 + exp(-t))), accuracy: 1e-6)
  }

  func testBPRLossIsMinusLogSigmaOfTheDifference() throws {
    let d = 4
    // User 0 likes item 0. User 1's entry on item 1 is a negative (value −1): not an example,
    // but a stored entry, so BPR's popularity-proportional draw can give item 1, the only
    // item user 0 does not know. One example per epoch; the negative is item 1 whatever the
    // generator draws.
    let x = try coo(2, 2, [(0, 0, 1), (1, 1, -1)])
    let w = try coo(2, 2, [(0, 0, 2), (1, 1, 1)])
    var (model, p0) = try initial(LightFM(noComponents: d, loss: .bpr, randomState: 9), x)
    let p = row(p0.users.embeddings, 0, d)
    let difference =
      dot(p, row(p0.items.embeddings, 0, d)) - dot(p, row(p0.items.embeddings, 1, d))
    let loss = try epochLoss(&model, x, sampleWeight: w)
    XCTAssertEqual(loss, 2 * -log(1 / (1 + exp(-difference))), accuracy: 1e-6)
  }

  func testWARPLossIsTheRankWeightedHinge() throws {
    // As TrainingTests.testWARPStepByHand: the first draw (n = 1) is a negative that violates.
    try assertFirstDrawHinge(LightFM(noComponents: 4, loss: .warp, randomState: 5))
  }

  func testWARPKOSLossIsTheHingeOfTheKthPositive() throws {
    // One positive: every draw of the user's positives gives it, so it is the k-th highest.
    try assertFirstDrawHinge(LightFM(noComponents: 4, loss: .warpKOS, randomState: 6))
  }

  /// One user with one positive (item 0) among 11 items, whose first draw (n = 1) is a
  /// violating negative j: the epoch's loss is L·(1 − s_ui + s_uj) with L = ln ⌊(N − 1)/1⌋.
  func assertFirstDrawHinge(
    _ untrained: LightFM, file: StaticString = #filePath, line: UInt = #line
  ) throws {
    let d = untrained.noComponents
    let x = try coo(1, 11, [(0, 0, 1)])
    var (model, p0) = try initial(untrained, x)
    let loss = try epochLoss(&model, x)
    let p1 = try XCTUnwrap(model.parameters, file: file, line: line)
    let j = try XCTUnwrap(
      p1.items.biases.firstIndex { $0 < 0 }, "the negative item moved", file: file, line: line)
    // Adagrad's first step moves b_j by lr·L: L = ln ⌊(N − 1)/1⌋ = ln 10 confirms n = 1.
    let L = log(10.0)
    XCTAssertEqual(
      Double(p1.items.biases[j]), -0.05 * L, accuracy: 1e-6, "n = 1 draw", file: file,
      line: line)
    let p = p0.users.embeddings
    let si = dot(p, row(p0.items.embeddings, 0, d))
    let sj = dot(p, row(p0.items.embeddings, j, d))
    XCTAssertEqual(loss, L * (1 - si + sj), accuracy: 1e-5, file: file, line: line)
  }

  func testExamplesWithoutAViolationCountAsZero() throws {
    let d = 4
    // User 0's positive (item 0) outscores every item by 5, beyond the margin of 1: no draw
    // violates, no update, loss 0. User 1's positive (item 1) is violated at once. The epoch's
    // mean is user 1's loss over 2 examples, whichever order they come in (user 0's example
    // changes nothing, and user 1's is computed before its own update).
    let x = try coo(2, 11, [(0, 0, 1), (1, 1, 1)])
    var (model, p0) = try initial(LightFM(noComponents: d, loss: .warp, randomState: 2), x)
    p0.items.biases[0] = 5
    model.parameters = p0
    let loss = try epochLoss(&model, x)
    let p1 = try XCTUnwrap(model.parameters)
    XCTAssertEqual(row(p1.users.embeddings, 0, d), row(p0.users.embeddings, 0, d), "no update")
    let moved = (2..<11).filter { p1.items.biases[$0] < 0 } + (p1.items.biases[0] < 5 ? [0] : [])
    XCTAssertEqual(moved.count, 1, "one negative of user 1's example moved")
    let j = moved[0]
    let L = (Double(p0.items.biases[j]) - Double(p1.items.biases[j])) / 0.05
    XCTAssertEqual(L, log(10.0), accuracy: 1e-5, "n = 1 draw for this seed")
    let p = row(p0.users.embeddings, 1, d)
    let si = dot(p, row(p0.items.embeddings, 1, d))
    let sj = dot(p, row(p0.items.embeddings, j, d)) + Double(p0.items.biases[j])
    XCTAssertEqual(loss, L * (1 - si + sj) / 2, accuracy: 1e-5)
  }

  func testLogLossStaysFiniteAtExtremeScores() {
    let cases: [(s: Float, positive: Bool, expected: Float)] = [
      (0, true, log(2)), (0, false, log(2)), (100, true, 0), (100, false, 100),
      (-100, true, 100), (-100, false, 0), (20, false, 20), (-20, true, 20),
    ]
    for c in cases {
      let loss = TrainingKernel.logLoss(c.s, expMinus: exp(-c.s), positive: c.positive)
      XCTAssertEqual(loss, c.expected, accuracy: 1e-5, "\(c)")
    }
  }

  // MARK: - Turning it off, threads, learning

  func testTheLossIsMeasuredOnlyWhenAsked() throws {
    let data = Synthetic.generate(.small)
    var model = LightFM(loss: .warp, randomState: 1)
    var reports: [TrainingProgress] = []
    let history = try model.fit(data.train, epochs: 2, reportsLoss: false) {
      reports.append($0)
      return .continue
    }
    XCTAssertEqual(reports.map(\.loss), [nil, nil])
    XCTAssertEqual(history.epochs, reports)
    XCTAssertFalse(reports[0].description.contains("loss"))
    // Without anything to read it, the loss is not computed, and training is unchanged by it.
    var quiet = LightFM(loss: .warp, randomState: 1)
    let silent = try quiet.fit(data.train, epochs: 2)
    XCTAssertEqual(silent.epochs.map(\.loss), [nil, nil])
    var measured = LightFM(loss: .warp, randomState: 1)
    let loud = try measured.fit(data.train, epochs: 2) { _ in .continue }
    XCTAssertNotNil(loud.epochs[1].loss)
    XCTAssertTrue(loud.epochs[1].description.contains("  loss "), loud.epochs[1].description)
    XCTAssertTrue(quiet.parameters == measured.parameters, "measuring changes nothing")
  }

  func testEveryLossFallsWhileLearningOnTwoThreads() throws {
    let data = Synthetic.generate(.small)
    for loss in LightFM.Loss.allCases {
      var model = LightFM(noComponents: 16, loss: loss, randomState: 1)
      let history = try model.fit(data.train, epochs: 4, numThreads: 2) { _ in .continue }
      let losses = history.epochs.compactMap(\.loss)
      XCTAssertEqual(losses.count, 4, "\(loss)")
      XCTAssertTrue(losses.allSatisfy { $0.isFinite && $0 >= 0 }, "\(loss): \(losses)")
      XCTAssertLessThan(losses[3], losses[0], "\(loss): \(losses)")
    }
  }
}
