import XCTest
import _LightFMTestSupport

@testable import LightFMKit

final class CrossValidationTests: XCTestCase {
  func sample(users: Int = 30, items: Int = 40) throws -> (COOMatrix, [Int]) {
    var rng = ScoringFixtures.Rng(state: 31)
    var rows: [Int32] = []
    var cols: [Int32] = []
    var times: [Int] = []
    for u in 0..<users {
      for i in 0..<items where rng.int(4) == 0 {
        rows.append(Int32(u))
        cols.append(Int32(i))
        times.append(rng.int(1000))
      }
    }
    let values = rows.indices.map { Float($0 + 1) }
    return (
      try COOMatrix(rows: users, columns: items, rowIndices: rows, columnIndices: cols,
        values: values),
      times
    )
  }

  func entries(_ m: COOMatrix) -> [[Float]] {
    (0..<m.nnz).map { [Float(m.rowIndices[$0]), Float(m.columnIndices[$0]), m.values[$0]] }
  }

  func assertPartition(_ whole: COOMatrix, _ train: COOMatrix, _ test: COOMatrix) {
    XCTAssertEqual(train.shape, whole.shape)
    XCTAssertEqual(test.shape, whole.shape)
    let all = entries(train) + entries(test)
    XCTAssertEqual(
      all.sorted { $0.lexicographicallyPrecedes($1) },
      entries(whole).sorted { $0.lexicographicallyPrecedes($1) })
  }

  func testRandomSplitPartitionsDeterministically() throws {
    let (m, _) = try sample()
    let (train, test) = try CrossValidation.randomTrainTestSplit(
      interactions: m, testPercentage: 0.25, randomState: 42)
    assertPartition(m, train, test)
    XCTAssertEqual(train.nnz, Int(0.75 * Double(m.nnz)))
    let again = try CrossValidation.randomTrainTestSplit(
      interactions: m, testPercentage: 0.25, randomState: 42)
    XCTAssertEqual(again.train, train)
    XCTAssertEqual(again.test, test)
    let other = try CrossValidation.randomTrainTestSplit(
      interactions: m, testPercentage: 0.25, randomState: 43)
    XCTAssertNotEqual(other.test, test)
    XCTAssertEqual(
      try CrossValidation.randomTrainTestSplit(interactions: m, testPercentage: 0).test.nnz, 0)
    XCTAssertThrowsError(
      try CrossValidation.randomTrainTestSplit(interactions: m, testPercentage: 1.5))
  }

  func testLeaveNOutKeepsOneTrainingEntryPerUser() throws {
    let (m, times) = try sample()
    let csr = try CSRMatrix(m)
    for timestamps in [nil, times] {
      let (train, test) = try CrossValidation.leaveNOutSplit(
        interactions: m, n: 2, timestamps: timestamps, randomState: 7)
      assertPartition(m, train, test)
      let trainCSR = try CSRMatrix(train)
      let testCSR = try CSRMatrix(test)
      for u in 0..<m.shape.rows {
        let c = csr.rowCount(u)
        XCTAssertEqual(testCSR.rowCount(u), max(0, min(2, c - 1)), "user \(u)")
        XCTAssertEqual(trainCSR.rowCount(u), c - testCSR.rowCount(u))
      }
      if let timestamps {
        // The held-out entries are each user's latest.
        for e in 0..<test.nnz {
          let u = test.rowIndices[e]
          let heldTime = timestamps[Int(test.values[e]) - 1]
          for t in 0..<train.nnz where train.rowIndices[t] == u {
            XCTAssertLessThanOrEqual(timestamps[Int(train.values[t]) - 1], heldTime)
          }
        }
      }
    }
    XCTAssertThrowsError(try CrossValidation.leaveNOutSplit(interactions: m, n: 0))
    XCTAssertThrowsError(
      try CrossValidation.leaveNOutSplit(interactions: m, timestamps: [1, 2]))
  }

  func testTimestampSplits() throws {
    let (m, times) = try sample()
    let (train, test) = try CrossValidation.timestampSplit(
      interactions: m, timestamps: times, testPercentage: 0.3)
    assertPartition(m, train, test)
    XCTAssertEqual(train.nnz, Int(0.7 * Double(m.nnz)))
    let latestTrain = (0..<train.nnz).map { times[Int(train.values[$0]) - 1] }.max()!
    let earliestTest = (0..<test.nnz).map { times[Int(test.values[$0]) - 1] }.min()!
    XCTAssertLessThanOrEqual(latestTrain, earliestTest)
    let byCutoff = try CrossValidation.timestampSplit(
      interactions: m, timestamps: times, cutoff: 500)
    assertPartition(m, byCutoff.train, byCutoff.test)
    XCTAssertEqual(byCutoff.test.nnz, times.filter { $0 >= 500 }.count)
  }

  // LightFM cuts at int((1.0 - test_percentage) * n) with a Python float: 0.2 of 100 entries
  // is exactly 20, and 0.2 of ua.base's 90,570 ratings is 18,114.
  func testPercentageCutMatchesLightFM() throws {
    let hundred = try COOMatrix(
      rows: 10, columns: 10,
      rowIndices: (0..<100).map { Int32($0 / 10) },
      columnIndices: (0..<100).map { Int32($0 % 10) },
      values: [Float](repeating: 1, count: 100))
    let random = try CrossValidation.randomTrainTestSplit(
      interactions: hundred, testPercentage: 0.2, randomState: 7)
    XCTAssertEqual([random.train.nnz, random.test.nnz], [80, 20])
    let byTime = try CrossValidation.timestampSplit(
      interactions: hundred, timestamps: Array(0..<100), testPercentage: 0.2)
    XCTAssertEqual([byTime.train.nnz, byTime.test.nnz], [80, 20])

    guard let directory = MovieLens.directory() else { throw XCTSkip(MovieLens.missingMessage) }
    let base = try MovieLens.positives("ua.base", in: directory, minRating: 1)
    XCTAssertEqual(base.nnz, 90_570)
    let split = try CrossValidation.randomTrainTestSplit(
      interactions: base, testPercentage: 0.2, randomState: 7)
    XCTAssertEqual(split.test.nnz, 18_114)
  }
}
