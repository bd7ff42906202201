import XCTest
import _LightFMTestSupport

@testable import LightFMKit

final class SyntheticTests: XCTestCase {
  func testSmallSetShapeCountsAndDisjointSplit() throws {
    let data = Synthetic.generate(.small)
    XCTAssertEqual(data.train.shape, MatrixShape(rows: 1_000, columns: 500))
    XCTAssertEqual(data.test.shape, data.train.shape)
    let total = data.train.nnz + data.test.nnz
    XCTAssertGreaterThan(total, 24_000, "about 30,000 interactions expected")
    XCTAssertLessThan(total, 36_000, "about 30,000 interactions expected")
    let testShare = Double(data.test.nnz) / Double(total)
    XCTAssertEqual(testShare, 0.2, accuracy: 0.03)

    let train = try CSRMatrix(data.train)
    let test = try CSRMatrix(data.test)
    XCTAssertEqual(train.nnz, data.train.nnz, "train has no repeated coordinates")
    XCTAssertEqual(test.nnz, data.test.nnz, "test has no repeated coordinates")
    for u in 0..<1_000 {
      XCTAssertGreaterThan(train.rowCount(u), 0, "user \(u) has no train entry")
      for item in test.row(u).columns {
        XCTAssertFalse(train.contains(row: u, column: Int(item)), "user \(u) item \(item)")
      }
    }
    XCTAssertTrue(data.train.values.allSatisfy { $0 == 1 })
  }

  func testSameSeedSameDataOtherSeedOtherData() {
    let a = Synthetic.generate(.small)
    let b = Synthetic.generate(.small)
    XCTAssertEqual(a.train, b.train)
    XCTAssertEqual(a.test, b.test)
    var other = Synthetic.Configuration.small
    other.seed = 7
    XCTAssertNotEqual(Synthetic.generate(other).train, a.train)
  }

  func testPopularityIsSkewedAndClustersArePlanted() {
    var config = Synthetic.Configuration(users: 2_000, items: 1_000, interactions: 60_000)
    config.clusters = 8
    let data = Synthetic.generate(config)
    var counts = [Int](repeating: 0, count: config.items)
    var inCluster = 0
    for n in 0..<data.train.nnz {
      let (u, i, _) = data.train[entry: n]
      counts[i] += 1
      if data.userClusters[u] == data.itemClusters[i] { inCluster += 1 }
    }
    // Power law: the most popular 5% of items hold far more than 5% of the interactions.
    let sorted = counts.sorted(by: >)
    let top = sorted.prefix(config.items / 20).reduce(0, +)
    XCTAssertGreaterThan(Double(top) / Double(data.train.nnz), 0.15)
    // Planted structure: far more same-cluster pairs than the 1/8 chance level.
    XCTAssertGreaterThan(Double(inCluster) / Double(data.train.nnz), 0.5)
  }

  /// The planted structure is learnable: WARP ranks held-out items far above chance, and above
  /// what item popularity alone achieves.
  func testModelLearnsThePlantedStructure() throws {
    let data = Synthetic.generate(.small)
    var model = LightFM(noComponents: 16, loss: .warp, randomState: 3)
    try model.fit(data.train, epochs: 10)
    let train = try CSRMatrix(data.train)
    let auc = try Evaluation.aucScore(
      model, testInteractions: data.test, trainInteractions: train)
    let meanAUC = auc.reduce(0, +) / Float(auc.count)
    XCTAssertGreaterThan(meanAUC, 0.8)  // 0.873 with this seed

    // Popularity alone: score = train count of the item; the same AUC definition.
    var counts = [Float](repeating: 0, count: data.train.shape.columns)
    for c in data.train.columnIndices { counts[Int(c)] += 1 }
    let test = try CSRMatrix(data.test)
    var total = 0.0
    var users = 0
    for u in 0..<test.shape.rows where test.rowCount(u) > 0 {
      let negatives = (0..<counts.count).filter {
        !train.contains(row: u, column: $0) && !test.contains(row: u, column: $0)
      }.map { counts[$0] }.sorted()
      var above = 0
      for i in test.row(u).columns {
        // Negatives scored strictly below the test item.
        above += RankMetrics.countBelow(counts[Int(i)], in: negatives)
      }
      total += Double(above) / Double(test.rowCount(u) * negatives.count)
      users += 1
    }
    let popularityAUC = total / Double(users)
    XCTAssertGreaterThan(
      Double(meanAUC), popularityAUC + 0.05, "model \(meanAUC), popularity \(popularityAUC)")
  }
}

final class NPZWriterTests: XCTestCase {
  /// The writer's zip and .npy layout is what the library's scipy reader accepts.
  func testSyntheticSetRoundTripsThroughNPZ() throws {
    let data = Synthetic.generate(
      Synthetic.Configuration(users: 200, items: 100, interactions: 2_000))
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("npz-writer-\(ProcessInfo.processInfo.processIdentifier).npz")
    defer { try? FileManager.default.removeItem(at: url) }
    try NPZWriter.writeCOO(data.train, to: url)
    let back = try NPZ.readSparseMatrix(from: url)
    XCTAssertEqual(back.shape, data.train.shape)
    XCTAssertEqual(back.rowIndices, data.train.rowIndices)
    XCTAssertEqual(back.columnIndices, data.train.columnIndices)
    XCTAssertEqual(back.values, data.train.values)
  }
}
