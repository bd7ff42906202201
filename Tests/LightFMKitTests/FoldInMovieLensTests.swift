import Foundation
import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// New users on MovieLens 100K: a tenth of the users is held out of training entirely, then
/// served four ways and evaluated on their `ua.test` positives (ratings ≥ 4), their `ua.base`
/// positives excluded:
///
/// - trained normally: the same users in training, the upper bound;
/// - fold-in: closed-form embeddings from their `ua.base` positives, nothing retrained;
/// - fold-in + features: the same with their demographics as the prior p⁰;
/// - feature-only cold start: demographics alone (age bucket, gender, occupation);
/// - most popular: items by positive count among the training users.
///
/// WARP, d = 32, lr 0.05, 20 epochs, one thread. Seeds: `LIGHTFM_FOLDIN_SEEDS` (e.g. `1,2,3`),
/// default 1. The table is printed; the floors are far below what we measure.
final class FoldInMovieLensTests: XCTestCase {
  struct Row {
    var name: String
    var precision: [Float] = []
    var auc: [Float] = []
  }

  func testFoldInOnMovieLens() throws {
    guard let directory = MovieLens.directory() else { throw XCTSkip(MovieLens.missingMessage) }
    let base = try MovieLens.ratings("ua.base", in: directory).filter { $0.rating >= 4 }
    let test = try MovieLens.ratings("ua.test", in: directory).filter { $0.rating >= 4 }
    let demographics = try MovieLens.demographics(in: directory)
    let allUsers = demographics.keys.sorted()
    let held = allUsers.filter { $0 % 10 == 0 }
    let kept = allUsers.filter { $0 % 10 != 0 }
    let heldSet = Set(held)
    let items = Array(1...1682)
    let seeds = (ProcessInfo.processInfo.environment["LIGHTFM_FOLDIN_SEEDS"] ?? "1")
      .split(separator: ",").compactMap { UInt64($0) }

    // Users ordered kept first, then held, in every dataset, so that matrices line up.
    var full = Dataset()
    try full.fit(users: kept + held, items: items)
    let trainAll = try full.buildInteractions(base.map { ($0.user, $0.item) }).interactions
    let trainKept = try full.buildInteractions(
      base.filter { !heldSet.contains($0.user) }.map { ($0.user, $0.item) }
    ).interactions
    let testHeld = try full.buildInteractions(
      test.filter { heldSet.contains($0.user) }.map { ($0.user, $0.item) }
    ).interactions
    let trainCSR = try CSRMatrix(trainAll)
    let heldRows = held.map { full.userIDs[$0]! }

    var rows = [
      Row(name: "trained normally"), Row(name: "fold-in"), Row(name: "fold-in, hybrid model"),
      Row(name: "fold-in centred on features"), Row(name: "feature-only cold start"),
      Row(name: "most popular"), Row(name: "fold-in + 5 refinement epochs"),
    ]
    var foldSeconds: [Double] = []
    func evaluate(
      _ model: LightFM, _ row: Int, userFeatures: CSRMatrix? = nil
    ) throws {
      let precision = try Evaluation.precisionAtK(
        model, testInteractions: testHeld, trainInteractions: trainAll, k: 10,
        userFeatures: userFeatures)
      let auc = try Evaluation.aucScore(
        model, testInteractions: testHeld, trainInteractions: trainAll,
        userFeatures: userFeatures)
      rows[row].precision.append(precision.reduce(0, +) / Float(precision.count))
      rows[row].auc.append(auc.reduce(0, +) / Float(auc.count))
    }

    for seed in seeds {
      func warp() -> LightFM {
        LightFM(noComponents: 32, loss: .warp, learningRate: 0.05, randomState: seed)
      }
      // Trained normally.
      var trained = warp()
      try trained.fit(trainAll, epochs: 20)
      try evaluate(trained, 0)

      // Fold-in: trained without the held users (their rows are empty), then folded in.
      var pure = Dataset()
      try pure.fit(users: kept, items: items)
      var folded = warp()
      try folded.fit(
        pure.buildInteractions(
          base.filter { !heldSet.contains($0.user) }.map { ($0.user, $0.item) }
        ).interactions, epochs: 20)
      try pure.fitPartial(users: held)
      var refined = folded
      let start = ContinuousClock.now
      try folded.foldIn(users: heldRows, interactions: trainCSR, dataset: pure)
      let elapsed = ContinuousClock.now - start
      foldSeconds.append(
        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
      try evaluate(folded, 1)
      try refined.foldIn(
        users: heldRows, interactions: trainCSR, dataset: pure,
        options: FoldInOptions(refinementEpochs: 5))
      try evaluate(refined, 6)

      // The hybrid model: identity + demographics for the training users.
      let names = Array(Set(demographics.values.joined())).sorted()
      var hybridData = Dataset()
      try hybridData.fit(users: kept, items: items, userFeatures: names)
      let keptFeatures = try hybridData.buildUserFeatures(kept.map { ($0, demographics[$0]!) })
      var hybrid = warp()
      try hybrid.fit(
        trainKept, userFeatures: keptFeatures.paddedRows(to: allUsers.count), epochs: 20)
      // Feature-only cold start: the held users are their demographics alone.
      let cold = try hybridData.coldStartUserFeatures(held.map { demographics[$0]! })
      try evaluate(hybrid, 4, userFeatures: keptFeatures.appendingRows(cold))
      // Fold-in on the hybrid model, regularised toward 0 (the default) or the demographics.
      try hybridData.fitPartial(users: held)
      let allFeatures = try hybridData.buildUserFeatures(allUsers.map { ($0, demographics[$0]!) })
      for (row, centred) in [(2, false), (3, true)] {
        var options = FoldInOptions()
        options.featurePrior = centred
        var model = hybrid
        try model.foldIn(
          users: heldRows, interactions: trainCSR, dataset: hybridData, userFeatures: allFeatures,
          options: options)
        try evaluate(model, row, userFeatures: allFeatures)
      }

      // Most popular: item bias = positive count among the training users, no embeddings.
      var popular = LightFM(noComponents: 1)
      var parameters = ModelParameters(
        noComponents: 1, userFeatureCount: allUsers.count, itemFeatureCount: items.count)
      for i in trainKept.columnIndices { parameters.items.biases[Int(i)] += 1 }
      popular.parameters = parameters
      try evaluate(popular, 5)
    }

    func mean(_ x: [Float]) -> Float { x.reduce(0, +) / Float(x.count) }
    var table = "MovieLens 100K, \(held.count) held-out users, WARP d=32, seeds \(seeds)\n"
    table += "method                          precision@10   AUC\n"
    for row in rows {
      let name = row.name.padding(toLength: 32, withPad: " ", startingAt: 0)
      table += name + String(format: "%.4f         %.4f\n", mean(row.precision), mean(row.auc))
    }
    let perUser = foldSeconds.reduce(0, +) / Double(foldSeconds.count) / Double(held.count)
    table += String(
      format: "fold-in: %.3f ms per user (whole call, QᵀQ included, 1 thread)\n", perUser * 1e3)
    print(table)

    let (trainedP, foldP, popularP) = (mean(rows[0].precision), mean(rows[1].precision),
      mean(rows[5].precision))
    let (foldAUC, popularAUC, coldAUC) = (mean(rows[1].auc), mean(rows[5].auc), mean(rows[4].auc))
    XCTAssertGreaterThan(foldP, popularP + 0.03, "fold-in clearly above popularity")
    XCTAssertGreaterThan(foldAUC, popularAUC + 0.03)
    XCTAssertGreaterThan(foldP, 0.75 * trainedP, "fold-in recovers most of the trained quality")
    XCTAssertGreaterThan(mean(rows[2].precision), popularP + 0.03)
    XCTAssertGreaterThan(coldAUC, 0.8, "demographics alone carry some signal")
  }
}

extension CSRMatrix {
  /// The same rows followed by empty rows, up to `rows`.
  fileprivate func paddedRows(to rows: Int) -> CSRMatrix {
    appendingRows(CSRMatrix(emptyRows: rows - shape.rows, columns: shape.columns))
  }
}
