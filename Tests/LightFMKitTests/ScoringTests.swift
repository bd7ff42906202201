import XCTest

@testable import LightFMKit

final class ScoringTests: XCTestCase {
  typealias F = ScoringFixtures

  /// Checks lists against the brute force: same items in the same order, scores close.
  func assertMatches(
    _ got: Recommendations, _ expected: [[(item: Int, score: Double)]], tolerance: Double = 1e-4,
    file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(got.count, expected.count, file: file, line: line)
    for (n, list) in expected.enumerated() {
      let mine = got[got.startIndex + n]
      XCTAssertEqual(mine.map(\.index), list.map(\.item), "list \(n)", file: file, line: line)
      for (a, b) in zip(mine, list) {
        XCTAssertEqual(Double(a.score), b.score, accuracy: tolerance, file: file, line: line)
      }
    }
  }

  func testRecommendMatchesBruteForceWithTiesExclusionsAndEdgeCases() throws {
    let (users, items) = (23, 70)
    let model = F.model(users: users, items: items, d: 4, quantized: true, seed: 1)
    var rng = F.Rng(state: 2)
    var known = F.randomRows(users: users, items: items, density: 0.2, rng: &rng)
    known[0] = []  // empty row
    known[1] = Array(0..<items)  // knows everything
    known[2] = Array(0..<(items - 3))  // three left, fewer than k
    let excluding = try F.csr(known, columns: items)
    for engine in ScoringEngine.allCases {
      for threads in [1, 3] {
        for k in [1, 5, 10, items + 5] {
          let got = try model.recommend(
            count: k, excluding: excluding, numThreads: threads, engine: engine)
          let expected = try F.bruteTopK(
            model, users: Array(0..<users), k: k, excluding: known)
          assertMatches(got, expected)
          XCTAssertTrue(got[1].isEmpty)
          XCTAssertEqual(got[3][0], got[3].first, "lists are indexed from 0")
          XCTAssertEqual(got[2].count, min(k, 3))
          XCTAssertEqual(got[0].count, min(k, items))
        }
      }
    }
  }

  func testSmallTilesAndBlocksCoverEveryBoundary() throws {
    // Blocks of 3 users and tiles of 16 items: many tiles, partial last tile and block.
    let (users, items) = (17, 83)
    let model = F.model(users: users, items: items, d: 3, quantized: true, seed: 3)
    var rng = F.Rng(state: 4)
    let known = F.randomRows(users: users - 2, items: items, density: 0.3, rng: &rng)
    for engine in ScoringEngine.allCases {
      var scorer = BlockedScorer(
        queries: try model.userRepresentationMatrix(nil), queryRows: nil,
        items: try model.itemRepresentationMatrix(nil),
        exclusion: try F.csr(known, columns: items))
      scorer.userBlock = 3
      scorer.itemTile = 16
      scorer.engine = engine
      scorer.threads = 2
      let expected = try F.bruteTopK(
        model, users: Array(0..<users), k: 7, excluding: known)
      assertMatches(scorer.topK(7), expected)
    }
  }

  func testRequestedUsersAndCandidates() throws {
    let (users, items) = (12, 50)
    let model = F.model(users: users, items: items, d: 5, quantized: true, seed: 5)
    var rng = F.Rng(state: 6)
    let known = F.randomRows(users: 8, items: items, density: 0.3, rng: &rng)
    let chosen = [11, 3, 3, 0, 7]
    let candidates = [40, 2, 9, 2, 33, 17, 18, 49, 0, 21]
    let got = try model.recommend(
      users: chosen, count: 4, excluding: try F.csr(known, columns: items),
      candidates: candidates, numThreads: 2)
    XCTAssertEqual(got.queries, chosen)
    let expected = try F.bruteTopK(
      model, users: chosen, k: 4, excluding: known, candidates: candidates)
    assertMatches(got, expected)
    for list in got { XCTAssertTrue(list.allSatisfy { candidates.contains($0.index) }) }
  }

  func testBLASAndScalarAgreeOnRandomFloats() throws {
    let model = F.model(users: 300, items: 5000, d: 32, quantized: false, seed: 7)
    var rng = F.Rng(state: 8)
    let known = try F.csr(
      F.randomRows(users: 300, items: 5000, density: 0.01, rng: &rng), columns: 5000)
    let blas = try model.recommend(count: 10, excluding: known, numThreads: 2, engine: .blas)
    let scalar = try model.recommend(count: 10, excluding: known, numThreads: 2, engine: .scalar)
    for (a, b) in zip(blas, scalar) {
      XCTAssertEqual(a.map(\.index), b.map(\.index))
      for (x, y) in zip(a, b) { XCTAssertEqual(x.score, y.score, accuracy: 1e-4) }
    }
    let expected = try F.bruteTopK(model, users: [0, 150, 299], k: 10, excluding: nil)
    let some = try model.recommend(users: [0, 150, 299], count: 10)
    assertMatches(some, expected)
  }

  func testFeatureRepresentationsAndColdStartRows() throws {
    let model = F.model(users: 6, items: 9, d: 4, quantized: true, seed: 9)
    // Eight user rows over the 6 user features: two are cold-start rows.
    let userFeatures = try CSRMatrix(
      rows: 8, columns: 6, rowPointers: [0, 1, 3, 3, 4, 6, 7, 9, 10],
      columnIndices: [0, 1, 2, 3, 4, 5, 5, 0, 5, 2],
      values: [1, 0.5, 0.5, 1, 0.25, 0.75, 1, 0.5, 0.5, 2])
    let reps = try model.userRepresentations(features: userFeatures)
    let p = model.parameters!
    XCTAssertEqual(reps.biases.count, 8)
    XCTAssertEqual(reps.embeddings.count, 8 * 4)
    for r in 0..<8 {
      var bias: Float = 0
      var emb = [Float](repeating: 0, count: 4)
      for n in userFeatures.rowPointers[r]..<userFeatures.rowPointers[r + 1] {
        let f = Int(userFeatures.columnIndices[n])
        let x = userFeatures.values[n]
        bias += x * p.users.biases[f]
        for c in 0..<4 { emb[c] += x * p.users.embeddings[f * 4 + c] }
      }
      XCTAssertEqual(reps.biases[r], bias)
      XCTAssertEqual(Array(reps.embeddings[(r * 4)..<(r * 4 + 4)]), emb)
    }
    // Identity features (nil or explicit) give the model's own arrays.
    XCTAssertEqual(try model.itemRepresentations().embeddings, p.items.embeddings)
    XCTAssertEqual(
      try model.itemRepresentations(features: .identity(9)).biases, p.items.biases)
    // Recommending for the cold-start rows works like any other row.
    let got = try model.recommend(users: [6, 7], count: 3, userFeatures: userFeatures)
    let expected = try F.bruteTopK(
      model, users: [6, 7], k: 3, excluding: nil, userFeatures: userFeatures)
    assertMatches(got, expected)
  }

  func testBadInputIsAnError() throws {
    let model = F.model(users: 4, items: 5, d: 2, quantized: true, seed: 10)
    let wrongColumns = try F.csr([[0], [1]], columns: 3)
    XCTAssertThrowsError(try model.userRepresentations(features: wrongColumns)) { error in
      XCTAssertEqual((error as? LightFMError)?.kind, .invalidData)
    }
    XCTAssertThrowsError(try model.recommend(users: [4]))
    XCTAssertThrowsError(try model.recommend(users: [-1]))
    XCTAssertThrowsError(try model.recommend(count: 0))
    XCTAssertThrowsError(try model.recommend(numThreads: 0))
    XCTAssertThrowsError(try model.recommend(candidates: [5]))
    XCTAssertThrowsError(try model.recommend(excluding: try F.csr([[0]], columns: 4)))
    XCTAssertThrowsError(
      try model.recommend(excluding: try F.csr(Array(repeating: [0], count: 5), columns: 5)))
    XCTAssertThrowsError(try LightFM().recommend()) { error in
      XCTAssertEqual((error as? LightFMError)?.kind, .notFitted)
    }
  }

  func testSimilarItemsAndUsersAreCosineWithoutTheQuery() throws {
    let model = F.model(users: 20, items: 40, d: 6, quantized: false, seed: 11)
    let p = model.parameters!
    func cosine(_ e: [Float], _ a: Int, _ b: Int) -> Double {
      var (dot, na, nb) = (0.0, 0.0, 0.0)
      for c in 0..<6 {
        let (x, y) = (Double(e[a * 6 + c]), Double(e[b * 6 + c]))
        dot += x * y
        na += x * x
        nb += y * y
      }
      return dot / (na.squareRoot() * nb.squareRoot())
    }
    for engine in ScoringEngine.allCases {
      let lists = try model.similarItems(to: [3, 39, 0], count: 5, engine: engine)
      for (n, q) in [3, 39, 0].enumerated() {
        let expected = (0..<40).filter { $0 != q }
          .map { (item: $0, score: cosine(p.items.embeddings, q, $0)) }
          .sorted { ($0.score, -$0.item) > ($1.score, -$1.item) }.prefix(5)
        XCTAssertEqual(lists[n].map(\.index), expected.map(\.item))
        for (a, b) in zip(lists[n], expected) {
          XCTAssertEqual(Double(a.score), b.score, accuracy: 1e-5)
        }
      }
    }
    let users = try model.similarUsers(to: 7, count: 50)
    XCTAssertEqual(users.count, 19)
    XCTAssertFalse(users.contains { $0.index == 7 })
    XCTAssertEqual(
      users.first?.index,
      (0..<20).filter { $0 != 7 }.max {
        cosine(p.users.embeddings, 7, $0) < cosine(p.users.embeddings, 7, $1)
      })
    XCTAssertThrowsError(try model.similarItems(to: 40))
  }
}
