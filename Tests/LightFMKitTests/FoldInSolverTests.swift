import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// The fold-in maths on planted and random item representations, independent of training.
final class FoldInSolverTests: XCTestCase {
  /// Solves the fold-in objective by brute force in Double: forms Σ_i c_i q_i q_iᵀ + λI and
  /// Σ_i c_i (y_i − o_i) q_i over every item, then Gaussian elimination.
  func bruteForce(
    q: [Float], b: [Float], d: Int, positives: [(Int, Float)], prior: [Float],
    options: FoldInOptions
  ) -> [Double] {
    let n = b.count
    var trace = 0.0
    for i in 0..<n { for c in 0..<d { trace += Double(q[i * d + c] * q[i * d + c]) } }
    let lambda = Double(options.regularization) * trace / Double(d)
    var weight = [Double](repeating: 0, count: n)
    for (i, w) in positives where w > 0 { weight[i] = Double(w) }
    var a = [[Double]](repeating: [Double](repeating: 0, count: d + 1), count: d)
    for r in 0..<d { a[r][r] = lambda }
    let beta = options.itemBiases == .subtract ? 1.0 : 0.0
    for i in 0..<n {
      let c = 1 + Double(options.confidence) * weight[i]
      let y = weight[i] > 0 ? 1.0 : 0.0
      var o = beta * Double(b[i])
      for k in 0..<d { o += Double(prior[k] * q[i * d + k]) }
      for r in 0..<d {
        for k in 0..<d { a[r][k] += c * Double(q[i * d + r] * q[i * d + k]) }
        a[r][d] += c * (y - o) * Double(q[i * d + r])
      }
    }
    for col in 0..<d {
      let pivot = (col..<d).max { abs(a[$0][col]) < abs(a[$1][col]) }!
      a.swapAt(col, pivot)
      for r in 0..<d where r != col {
        let f = a[r][col] / a[col][col]
        for k in col...d { a[r][k] -= f * a[col][k] }
      }
    }
    return (0..<d).map { Double(prior[$0]) + a[$0][d] / a[$0][$0] }
  }

  func randomCase(
    users: Int, items: Int, d: Int, seed: UInt64
  ) throws -> (q: [Float], b: [Float], interactions: CSRMatrix) {
    var rng = SplitMix64(seed: seed)
    let q = (0..<(items * d)).map { _ in Float.random(in: -1...1, using: &rng) }
    let b = (0..<items).map { _ in Float.random(in: -0.5...0.5, using: &rng) }
    var rows: [Int32] = []
    var columns: [Int32] = []
    var values: [Float] = []
    for u in 0..<users {
      // User 0 has nothing; the others a random handful, with a non-positive entry now and then.
      let count = u == 0 ? 0 : Int.random(in: 1...(items / 3), using: &rng)
      for i in Array(0..<items).shuffled(using: &rng).prefix(count) {
        rows.append(Int32(u))
        columns.append(Int32(i))
        values.append(
          Bool.random(using: &rng) && i % 5 == 0 ? 0 : Float.random(in: 0.5...2, using: &rng))
      }
    }
    let coo = try COOMatrix(
      rows: users, columns: items, rowIndices: rows, columnIndices: columns, values: values)
    return (q, b, try CSRMatrix(coo))
  }

  func testMatchesBruteForceNormalEquations() throws {
    let d = 6
    let (q, b, interactions) = try randomCase(users: 9, items: 40, d: d, seed: 7)
    let solver = FoldInSolver(itemBiases: b, itemEmbeddings: q, noComponents: d)
    var rng = SplitMix64(seed: 99)
    let prior = (0..<(9 * d)).map { _ in Float.random(in: -0.3...0.3, using: &rng) }
    for biases in FoldInItemBiases.allCases {
      for (usePrior, centred) in [(false, false), (true, true), (true, false)] {
        let options = FoldInOptions(
          regularization: 0.05, confidence: 3, itemBiases: biases, featurePrior: centred)
        let out = try solver.solve(
          interactions: interactions, prior: usePrior ? prior : nil, options: options)
        let scaled = try solver.solve(
          interactions: interactions, prior: usePrior ? prior : nil, options: options,
          targetNorm: 2.5)
        XCTAssertEqual(out.count, 9 * d)
        for u in 0..<9 {
          let row = interactions.row(u)
          let positives = Array(zip(row.columns.map { Int($0) }, row.values))
          let p0 =
            usePrior ? Array(prior[(u * d)..<((u + 1) * d)]) : [Float](repeating: 0, count: d)
          let hasPositives = positives.contains { $0.1 > 0 }
          let centre = centred ? p0 : [Float](repeating: 0, count: d)
          let expected = hasPositives
            ? bruteForce(q: q, b: b, d: d, positives: positives, prior: centre, options: options)
            : p0.map { Double($0) }
          let norm = expected.reduce(0) { $0 + $1 * $1 }.squareRoot()
          for c in 0..<d {
            XCTAssertEqual(
              Double(out[u * d + c]), expected[c], accuracy: 1e-3 * max(1, abs(expected[c])),
              "user \(u) component \(c) (\(biases), prior \(usePrior), centred \(centred))")
            let rescaled = hasPositives ? expected[c] * 2.5 / norm : expected[c]
            XCTAssertEqual(Double(scaled[u * d + c]), rescaled, accuracy: 1e-3)
          }
        }
      }
    }
  }

  func testThreadsGiveIdenticalResults() throws {
    let d = 16
    let (q, b, interactions) = try randomCase(users: 301, items: 120, d: d, seed: 3)
    let solver = FoldInSolver(itemBiases: b, itemEmbeddings: q, noComponents: d)
    let one = try solver.solve(
      interactions: interactions, prior: nil, options: FoldInOptions(numThreads: 1))
    let three = try solver.solve(
      interactions: interactions, prior: nil, options: FoldInOptions(numThreads: 3))
    XCTAssertEqual(one, three)
    XCTAssertTrue(one.allSatisfy(\.isFinite))
  }

  /// Items in 4 planted clusters: a user who likes a few items of one cluster gets an embedding
  /// that ranks the rest of that cluster above every other item.
  func testPlantedClustersAreRecovered() throws {
    let d = 8
    let clusters = 4
    let perCluster = 25
    let items = clusters * perCluster
    var rng = SplitMix64(seed: 11)
    var centres: [[Float]] = []
    for _ in 0..<clusters {
      centres.append((0..<d).map { _ in Float.random(in: -1...1, using: &rng) })
    }
    var q = [Float]()
    for i in 0..<items {
      q += centres[i / perCluster].map { $0 + Float.random(in: -0.1...0.1, using: &rng) }
    }
    let b = [Float](repeating: 0, count: items)
    var rows: [Int32] = []
    var columns: [Int32] = []
    for u in 0..<clusters {
      for k in 0..<5 {
        rows.append(Int32(u))
        columns.append(Int32(u * perCluster + k * 3))
      }
    }
    let interactions = try CSRMatrix(
      COOMatrix(
        rows: clusters, columns: items, rowIndices: rows, columnIndices: columns,
        values: [Float](repeating: 1, count: rows.count)))
    let solver = FoldInSolver(itemBiases: b, itemEmbeddings: q, noComponents: d)
    let p = try solver.solve(interactions: interactions, prior: nil, options: FoldInOptions())
    for u in 0..<clusters {
      let scores = (0..<items).map { i in
        (0..<d).reduce(Float(0)) { $0 + p[u * d + $1] * q[i * d + $1] }
      }
      let top = (0..<items).sorted { scores[$0] > scores[$1] }.prefix(perCluster)
      XCTAssertTrue(top.allSatisfy { $0 / perCluster == u }, "user \(u): \(Array(top))")
    }
  }

  /// Refinement's WARP counts every draw, the user's own items included, as training does:
  /// n in L = ln(⌊(N − 1)/n⌋) is the number of draws up to the violator. Here the user knows
  /// 1,000 of 1,001 items and the only other item always violates, so the draws before it
  /// are nearly all known items: counting only unknown draws would give n = 1 every time.
  func testRefinementCountsKnownDrawsAsTrainingDoes() throws {
    let n = 1001
    var biases = [Float](repeating: 0, count: n)
    var embeddings = [Float](repeating: 0, count: n)
    biases[n - 1] = 100
    embeddings[n - 1] = 1
    let solver = FoldInSolver(itemBiases: biases, itemEmbeddings: embeddings, noComponents: 1)
    // Item 0 is the one positive; items 1...999 are known non-positives.
    let row = try CSRMatrix(
      rows: 1, columns: n, rowPointers: [0, n - 1], columnIndices: (0..<Int32(n - 1)).map { $0 },
      values: [1] + [Float](repeating: -1, count: n - 2))
    var refinement = FoldInRefinement(
      model: LightFM(noComponents: 1, loss: .warp, maxSampled: 100_000, randomState: 9),
      epochs: 1)
    refinement.learningRate = 1
    for seed in 0..<UInt64(8) {
      refinement.seed = seed
      var p: [Float] = [0]
      solver.refine(&p, interactions: row, refinement: refinement, threads: 1)
      // One update: p = −lr·L·(q_j − q_i) with q_j − q_i = 1, so L = −p.
      let loss = -p[0]
      XCTAssertLessThan(loss, log(Float(n - 1)) - 1e-3, "seed \(seed): n counted only 1 draw")
      let draws = (1...100_000).first { abs(log(Float(max(1, (n - 1) / $0))) - loss) < 1e-5 }
      XCTAssertNotNil(draws, "seed \(seed): L = \(loss) is not ln(⌊1000/n⌋)")
    }
  }
}
