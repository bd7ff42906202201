import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// fit / fitPartial / predict: single steps by hand, reproducibility, Hogwild, weights,
/// features and every error a user can hit.
final class TrainingTests: XCTestCase, TrainingFixtures {
  // MARK: - Helpers

  /// Equality of parameters without printing megabytes of floats on failure.
  func assertSame(
    _ a: ModelParameters?, _ b: ModelParameters?, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertTrue(a != nil && a == b, "parameters differ: \(message)", file: file, line: line)
  }

  func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { $0 * $1 }.reduce(0, +) }

  func assertClose(_ a: [Float], _ b: [Float], _ message: String, file: StaticString = #filePath,
                   line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, message, file: file, line: line)
    for (x, y) in zip(a, b) {
      XCTAssertEqual(x, y, accuracy: 1e-6, message, file: file, line: line)
    }
  }

  // MARK: - Single steps by hand

  func testLogisticStepByHand() throws {
    let d = 3
    let x = try coo(1, 1, [(0, 0, 1)])
    var (model, p0) = try initial(LightFM(noComponents: d, loss: .logistic, randomState: 3), x)
    try model.fitPartial(x, epochs: 1)
    let p1 = try XCTUnwrap(model.parameters)
    let p = p0.users.embeddings
    let q = p0.items.embeddings
    let L = 1 / (1 + exp(-dot(p, q))) - 1
    assertClose(p1.items.embeddings, zip(q, p).map { $0 - 0.05 * L * $1 }, "q")
    assertClose(p1.users.embeddings, zip(p, q).map { $0 - 0.05 * L * $1 }, "p")
    assertClose(p1.items.biases, [-0.05 * L], "b_i")
    assertClose(p1.users.biases, [-0.05 * L], "b_u")
    assertClose(p1.items.embeddingGradients, p.map { 1 + (L * $0) * (L * $0) }, "G_q")
  }

  func testWARPStepByHand() throws {
    let d = 4
    let x = try coo(1, 11, [(0, 0, 1)])
    var (model, p0) = try initial(LightFM(noComponents: d, loss: .warp, randomState: 5), x)
    try model.fitPartial(x, epochs: 1)
    let p1 = try XCTUnwrap(model.parameters)
    // Near-zero initial scores: the first drawn negative violates, after 1 draw.
    let j = try XCTUnwrap(p1.items.biases.firstIndex { $0 < 0 }, "one negative item moved")
    XCTAssertNotEqual(j, 0)
    let L = Float(log(10.0))  // ln ⌊(N − 1)/1⌋
    let p = p0.users.embeddings
    let qi = row(p0.items.embeddings, 0, d)
    let qj = row(p0.items.embeddings, j, d)
    assertClose(row(p1.items.embeddings, 0, d), zip(qi, p).map { $0 + 0.05 * L * $1 }, "q_i")
    assertClose(row(p1.items.embeddings, j, d), zip(qj, p).map { $0 - 0.05 * L * $1 }, "q_j")
    let direction = zip(qj, qi).map { $0 - $1 }
    assertClose(p1.users.embeddings, zip(p, direction).map { $0 - 0.05 * L * $1 }, "p_u")
    XCTAssertEqual(p1.items.biases[0], 0.05 * L, accuracy: 1e-6)
    XCTAssertEqual(p1.items.biases[j], -0.05 * L, accuracy: 1e-6)
    XCTAssertEqual(p1.users.biases, [0], "the user bias cancels in pairwise losses")
    for other in 1..<11 where other != j {
      XCTAssertEqual(row(p1.items.embeddings, other, d), row(p0.items.embeddings, other, d))
    }
  }

  func testBPRStepByHandWithWeights() throws {
    let d = 2
    // User 0 likes item 0, user 1 likes item 1; user 1's entry has weight 0 and is skipped.
    let x = try coo(2, 2, [(0, 0, 1), (1, 1, 1)])
    let w = try coo(2, 2, [(0, 0, 2), (1, 1, 0)])
    var (model, p0) = try initial(LightFM(noComponents: d, loss: .bpr, randomState: 9), x)
    try model.fitPartial(x, sampleWeight: w, epochs: 1)
    let p1 = try XCTUnwrap(model.parameters)
    let p = row(p0.users.embeddings, 0, d)
    let qi = row(p0.items.embeddings, 0, d)
    let qj = row(p0.items.embeddings, 1, d)
    let L = 2 * (1 - 1 / (1 + exp(-(dot(p, qi) - dot(p, qj)))))
    assertClose(row(p1.items.embeddings, 0, d), zip(qi, p).map { $0 + 0.05 * L * $1 }, "q_i")
    assertClose(row(p1.items.embeddings, 1, d), zip(qj, p).map { $0 - 0.05 * L * $1 }, "q_j")
    assertClose(p1.items.biases, [0.05 * L, -0.05 * L], "biases")
    XCTAssertEqual(row(p1.users.embeddings, 1, d), row(p0.users.embeddings, 1, d), "weight 0")
    XCTAssertEqual(p1.users.embeddingGradients[2...], p0.users.embeddingGradients[2...])
  }

  func testZeroWeightsChangeNothingNotEvenAccumulators() throws {
    let data = Synthetic.generate(.small)
    let zeros = try data.train.withValues([Float](repeating: 0, count: data.train.nnz))
    for loss in [LightFM.Loss.logistic, .bpr, .warp] {
      for schedule in LightFM.LearningSchedule.allCases {
        let base = LightFM(learningSchedule: schedule, loss: loss, randomState: 1)
        var (model, p0) = try initial(base, data.train)
        try model.fitPartial(data.train, sampleWeight: zeros, epochs: 2)
        assertSame(model.parameters, p0, "\(loss) \(schedule)")
      }
    }
  }

  // MARK: - Reproducibility and resuming

  func testOneThreadWithASeedReproducesBitForBit() throws {
    let data = Synthetic.generate(.small)
    for loss in LightFM.Loss.allCases {
      var a = LightFM(loss: loss, randomState: 11)
      var b = LightFM(loss: loss, randomState: 11)
      var c = LightFM(loss: loss, randomState: 12)
      try a.fit(data.train, epochs: 2)
      try b.fit(data.train, epochs: 2)
      try c.fit(data.train, epochs: 2)
      assertSame(a.parameters, b.parameters, "\(loss)")
      XCTAssertTrue(a.parameters != c.parameters, "\(loss): other seed, other model")
      // fit starts over: refitting gives the same model again.
      try a.fit(data.train, epochs: 2)
      assertSame(a.parameters, b.parameters, "\(loss) refit")
    }
  }

  func testFitPartialContinuesTheRandomStream() throws {
    let data = Synthetic.generate(.small)
    var once = LightFM(loss: .warp, randomState: 4)
    try once.fit(data.train, epochs: 3)
    var resumed = LightFM(loss: .warp, randomState: 4)
    try resumed.fit(data.train, epochs: 1)
    try resumed.fitPartial(data.train, epochs: 2)
    assertSame(once.parameters, resumed.parameters)
    var fresh = LightFM(loss: .warp, randomState: 4)
    try fresh.fitPartial(data.train, epochs: 3)
    assertSame(fresh.parameters, once.parameters, "fitPartial on a new model initialises")
  }

  func testCSRInputTrainsLikeTheSameCOO() throws {
    let data = Synthetic.generate(.small)
    var a = LightFM(loss: .bpr, randomState: 2)
    var b = LightFM(loss: .bpr, randomState: 2)
    try a.fit(data.train, epochs: 1)
    try b.fit(try CSRMatrix(data.train), epochs: 1)
    assertSame(a.parameters, b.parameters, "the synthetic COO is already row-major")
  }

  // MARK: - Learning and Hogwild

  func testEveryLossLearnsPlantedStructureWithTwoThreads() throws {
    let data = Synthetic.generate(.small)
    let train = try CSRMatrix(data.train)
    let test = try CSRMatrix(data.test)
    let floors: [LightFM.Loss: Double] = [.logistic: 0.62, .bpr: 0.6, .warp: 0.85, .warpKOS: 0.78]
    for loss in LightFM.Loss.allCases {
      var aucs: [Double] = []
      for threads in [1, 2] {
        var model = LightFM(noComponents: 16, loss: loss, randomState: 1)
        var reports: [TrainingProgress] = []
        try model.fit(data.train, epochs: 5, numThreads: threads) {
          reports.append($0)
          return .continue
        }
        XCTAssertEqual(reports.map(\.epoch), [1, 2, 3, 4, 5])
        XCTAssertEqual(reports.last?.estimatedRemaining, 0)
        XCTAssertTrue("\(reports[0])".hasPrefix("epoch 1/5  "), "\(reports[0])")
        let (_, auc) = try RankMetrics.evaluate(
          model, test: test, train: train, itemFeatures: nil, k: 10)
        aucs.append(auc)
      }
      // Hogwild loses nothing measurable against one thread; every loss beats chance clearly
      // (logistic and BPR's popularity-proportional negatives rank this skewed set less well).
      XCTAssertEqual(aucs[1], aucs[0], accuracy: 0.02, "\(loss): 2 threads vs 1")
      XCTAssertGreaterThan(aucs[1], floors[loss]!, "\(loss) test AUC with 2 threads")
    }
  }

  // MARK: - Features and prediction

  func testPredictMatchesTheModelFormulaIncludingColdStartRows() throws {
    let x = try coo(3, 4, [(0, 0, 1), (0, 2, 1), (1, 1, 1), (2, 3, 1), (2, 0, 1)])
    // Items: identity plus two tags; a fifth row is a new item known only by its tag.
    let items = try CSRMatrix(
      rows: 5, columns: 6, rowPointers: [0, 2, 4, 6, 8, 9],
      columnIndices: [0, 4, 1, 5, 2, 4, 3, 5, 4],
      values: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1])
    var model = LightFM(noComponents: 5, loss: .warp, randomState: 8)
    try model.fit(x, itemFeatures: items, epochs: 5)
    let p = try XCTUnwrap(model.parameters)
    let d = 5
    var expected: [Float] = []
    for item in 0..<5 {
      var q = [Float](repeating: 0, count: d)
      var b: Float = 0
      for n in items.rowPointers[item]..<items.rowPointers[item + 1] {
        let f = Int(items.columnIndices[n])
        for c in 0..<d { q[c] += items.values[n] * p.items.embeddings[f * d + c] }
        b += items.values[n] * p.items.biases[f]
      }
      expected.append(p.users.biases[2] + b + dot(row(p.users.embeddings, 2, d), q))
    }
    let scores = try model.predict(user: 2, items: Array(0..<5), itemFeatures: items)
    assertClose(scores, expected, "predict(user:items:)")
    let pairs = try model.predict(
      userIds: [2, 2, 2, 2, 2], itemIds: Array(0..<5), itemFeatures: items)
    XCTAssertEqual(pairs, scores)
  }

  func testEmptyFeatureRowsNeverGiveNaN() throws {
    let x = try coo(3, 3, [(0, 0, 1), (1, 1, 1), (2, 2, 1), (2, 0, -1)])
    // User 1 has no features at all; item 2 neither.
    let users = try CSRMatrix(
      rows: 3, columns: 2, rowPointers: [0, 1, 1, 2], columnIndices: [0, 1], values: [1, 1])
    let items = try CSRMatrix(
      rows: 3, columns: 2, rowPointers: [0, 1, 2, 2], columnIndices: [0, 1], values: [1, 1])
    for loss in LightFM.Loss.allCases {
      for schedule in LightFM.LearningSchedule.allCases {
        var model = LightFM(
          noComponents: 4, learningSchedule: schedule, loss: loss, itemAlpha: 0.01,
          userAlpha: 0.01, randomState: 1)
        try model.fit(x, userFeatures: users, itemFeatures: items, epochs: 3)
        let s = try model.predict(
          userIds: [0, 1, 2, 1], itemIds: [0, 1, 2, 2], userFeatures: users,
          itemFeatures: items)
        XCTAssertTrue(s.allSatisfy(\.isFinite), "\(loss) \(schedule): \(s)")
        XCTAssertEqual(s[3], 0, "an empty user and an empty item score 0")
      }
    }
  }

  func testWARPTerminatesForAUserWhoLikesEverything() throws {
    let x = try coo(2, 3, [(0, 0, 1), (0, 1, 1), (0, 2, 1), (1, 0, 1)])
    for loss in [LightFM.Loss.warp, .warpKOS, .bpr] {
      var model = LightFM(loss: loss, randomState: 1)
      try model.fit(x, epochs: 3)
      XCTAssertTrue(model.isFitted)
    }
  }

  /// Huge `k` and `maxSampled` are valid hyper-parameters: no loss may size scratch by them or
  /// overflow on them (every user here has items it does not know, so WARP finds violators).
  func testHugeKAndMaxSampledFitWithoutCrashing() throws {
    let x = try coo(2, 4, [(0, 0, 1), (0, 1, 1), (1, 2, 1), (1, 0, -1)])
    for loss in [LightFM.Loss.logistic, .bpr, .warp, .warpKOS] {
      var model = LightFM(k: .max, loss: loss, maxSampled: .max, randomState: 3)
      try model.fit(x, epochs: 2)
      let p = try XCTUnwrap(model.parameters)
      XCTAssertTrue(p.items.embeddings.allSatisfy(\.isFinite), "\(loss)")
      XCTAssertTrue(p.users.embeddings.allSatisfy(\.isFinite), "\(loss)")
    }
  }

  /// Adagrad on Adadelta's state would divide by √0 and report a misleading divergence;
  /// Adadelta on Adagrad's state would misuse it. Both are refused, naming the schedule.
  func testSwitchingTheScheduleBeforeFitPartialIsAnError() throws {
    let x = try coo(3, 4, [(0, 0, 1), (0, 1, 1), (1, 2, 1), (2, 3, 1), (2, 0, 1)])
    for (first, second) in [
      (LightFM.LearningSchedule.adadelta, LightFM.LearningSchedule.adagrad), (.adagrad, .adadelta),
    ] {
      for epochs in [0, 2] {
        var model = LightFM(learningSchedule: first, loss: .warp, randomState: 2)
        try model.fit(x, epochs: epochs)
        let before = model.parameters
        model.learningSchedule = second
        XCTAssertThrowsError(try model.fitPartial(x, epochs: 1)) { error in
          let e = error as? LightFMError
          XCTAssertEqual(e?.kind, .invalidParameter)
          XCTAssertTrue(e?.message.contains(first.rawValue) ?? false, "\(String(describing: e))")
        }
        assertSame(model.parameters, before, "\(first) -> \(second)")
        model.learningSchedule = first
        try model.fitPartial(x, epochs: 1)
        model.learningSchedule = second
        try model.fit(x, epochs: 1)
        XCTAssertEqual(LightFM.scheduleOfState(try XCTUnwrap(model.parameters)), second)
      }
    }
  }

  /// fitPartial and predict take feature matrices with exactly the model's column count.
  func testFeatureMatricesNarrowerThanTheModelAreRefused() throws {
    let x = try coo(2, 3, [(0, 0, 1), (1, 2, 1), (0, 1, 1)])
    let wide = try CSRMatrix(COOMatrix(
      rows: 3, columns: 4, rowIndices: [0, 1, 2, 0], columnIndices: [0, 1, 2, 3],
      values: [1, 1, 1, 0.5]))
    let narrow = try CSRMatrix(COOMatrix(
      rows: 3, columns: 3, rowIndices: [0, 1, 2], columnIndices: [0, 1, 2], values: [1, 1, 1]))
    var model = LightFM(loss: .warp, randomState: 4)
    try model.fit(x, itemFeatures: wide, epochs: 1)
    let before = model.parameters
    XCTAssertThrowsError(try model.fitPartial(x, itemFeatures: narrow)) { error in
      let e = error as? LightFMError
      XCTAssertEqual(e?.kind, .invalidData)
      XCTAssertTrue(e?.message.contains("expected 4 columns") ?? false, "\(String(describing: e))")
    }
    assertSame(model.parameters, before, "narrow fitPartial")
    XCTAssertThrowsError(try model.predict(userIds: [0], itemIds: [1], itemFeatures: narrow)) {
      XCTAssertTrue(($0 as? LightFMError)?.message.contains("expected 4 columns") ?? false)
    }
    try model.fitPartial(x, itemFeatures: wide)
    XCTAssertEqual(try model.predict(userIds: [0], itemIds: [1], itemFeatures: wide).count, 1)
  }

  /// A huge thread count runs at most one worker per example.
  func testHugeThreadCountIsCappedByTheExamples() throws {
    let x = try coo(2, 3, [(0, 0, 1), (1, 2, 1)])
    var model = LightFM(loss: .warp, randomState: 5)
    try model.fit(x, epochs: 2, numThreads: 10_000_000)
    XCTAssertTrue(model.isFitted)
  }

  func testL2KeepsEmbeddingsSmaller() throws {
    let data = Synthetic.generate(.small)
    var plain = LightFM(loss: .logistic, randomState: 1)
    var shrunk = LightFM(loss: .logistic, itemAlpha: 0.5, userAlpha: 0.5, randomState: 1)
    try plain.fit(data.train, epochs: 3)
    try shrunk.fit(data.train, epochs: 3)
    func norm(_ a: [Float]) -> Float { a.map { $0 * $0 }.reduce(0, +) }
    let a = try XCTUnwrap(plain.parameters)
    let b = try XCTUnwrap(shrunk.parameters)
    XCTAssertLessThan(norm(b.items.embeddings), norm(a.items.embeddings))
    XCTAssertLessThan(norm(b.users.embeddings), norm(a.users.embeddings))
  }

  /// The README quickstart, verbatim apart from the printing callback.
  func testReadmeQuickstart() throws {
    var dataset = Dataset()
    try dataset.fit(
      users: ["user_1", "user_2", "user_3"], items: ["item_A", "item_B", "item_C", "item_D"])
    let (interactions, _) = try dataset.buildInteractions([
      ("user_1", "item_A", 1), ("user_1", "item_C", 1), ("user_2", "item_B", 1),
      ("user_2", "item_C", 1), ("user_3", "item_A", 1), ("user_3", "item_B", 1),
      ("user_3", "item_D", 1),
    ])
    var model = LightFM(noComponents: 30, loss: .warp, learningRate: 0.05, randomState: 42)
    try model.fit(interactions, epochs: 20, numThreads: 2)
    let user = dataset.mapping().userIdMap["user_1"]!
    let scores = try model.predict(user: user, items: Array(0..<interactions.shape.columns))
    XCTAssertEqual(scores.count, 4)
    XCTAssertTrue(scores.allSatisfy(\.isFinite))
  }

  // MARK: - Errors

  func assertThrows(
    _ kind: LightFMError.Kind, containing text: String, file: StaticString = #filePath,
    line: UInt = #line, _ body: () throws -> Void
  ) {
    do {
      try body()
      XCTFail("expected a \(kind) error", file: file, line: line)
    } catch let error as LightFMError {
      XCTAssertEqual(error.kind, kind, error.message, file: file, line: line)
      XCTAssertTrue(error.message.contains(text), error.message, file: file, line: line)
    } catch {
      XCTFail("unexpected \(error)", file: file, line: line)
    }
  }

  func testErrors() throws {
    let x = try coo(2, 3, [(0, 0, 1), (1, 2, 1)])
    var model = LightFM(loss: .warp, randomState: 1)
    assertThrows(.notFitted, containing: "fit") { _ = try model.predict(user: 0, items: [0]) }
    assertThrows(.invalidParameter, containing: "numThreads") {
      try model.fit(x, numThreads: 0)
    }
    assertThrows(.invalidParameter, containing: "epochs") { try model.fit(x, epochs: -1) }
    var bad = LightFM(learningRate: -1)
    assertThrows(.invalidParameter, containing: "learningRate") { try bad.fit(x) }
    var kos = LightFM(loss: .warpKOS)
    assertThrows(.invalidParameter, containing: "warp-kos") { try kos.fit(x, sampleWeight: x) }
    assertThrows(.invalidData, containing: "rows") {
      try model.fit(x, userFeatures: CSRMatrix.identity(1))
    }
    let moved = try coo(2, 3, [(0, 1, 1), (1, 2, 1)])
    assertThrows(.invalidData, containing: "same coordinates") {
      try model.fit(x, sampleWeight: moved)
    }
    let nan = CSRMatrix(
      uncheckedShape: MatrixShape(rows: 3, columns: 3), rowPointers: [0, 1, 2, 3],
      columnIndices: [0, 1, 2], values: [1, .nan, 1])
    assertThrows(.invalidData, containing: "not finite") { try model.fit(x, itemFeatures: nan) }
    XCTAssertFalse(model.isFitted, "failed calls leave the model untouched")

    try model.fit(x, epochs: 1)
    assertThrows(.invalidData, containing: "grow the model") {
      try model.fitPartial(x, itemFeatures: CSRMatrix(emptyRows: 3, columns: 4))
    }
    assertThrows(.unknownID, containing: "item index 3") {
      _ = try model.predict(user: 0, items: [3])
    }
    assertThrows(.unknownID, containing: "user index -1") {
      _ = try model.predict(userIds: [-1], itemIds: [0])
    }
    assertThrows(.invalidParameter, containing: "itemIds") {
      _ = try model.predict(userIds: [0, 1], itemIds: [0])
    }
    assertThrows(.invalidData, containing: "columns") {
      _ = try model.predict(user: 0, items: [0], itemFeatures: CSRMatrix.identity(4))
    }
  }

  func testDivergenceIsReportedAndLeavesTheModelAsItWas() throws {
    let data = Synthetic.generate(.small)
    let signed = try data.train.withValues(
      (0..<data.train.nnz).map { $0 % 2 == 0 ? 1 : -1 })
    var model = LightFM(loss: .logistic, randomState: 1)
    try model.fit(signed, epochs: 1)
    let before = model.parameters
    model.learningRate = 1e30
    assertThrows(.diverged, containing: "lower the learning rate") {
      try model.fitPartial(signed, epochs: 5)
    }
    assertSame(model.parameters, before)
  }
}
