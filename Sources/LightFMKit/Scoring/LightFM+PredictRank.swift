// MARK: - predictRank

extension LightFM {
  /// The rank of every test interaction among the items the user has not trained on.
  ///
  /// ```
  /// rank(u, i) = #{ j ∉ train(u), j ≠ i : s(u, j) ≥ s(u, i) }      (0 is best)
  /// ```
  ///
  /// Other test items count (as in LightFM), and ties count against the item. Users' full rows
  /// are scored through GEMM tiles (a block of users × all items, a few MB per worker), read for
  /// the test items' scores, masked for the training items, then counted: a 16-wide compare per
  /// test item for short test rows, a binary search into the sorted test scores for long ones.
  ///
  /// - Parameters:
  ///   - testInteractions: `users × items`; every stored entry is a test item, whatever its
  ///     value. It may have fewer rows than there are users.
  ///   - trainInteractions: the same shape; every stored entry is left out of the ranking.
  ///   - userFeatures: `users × userFeatureCount`; `nil` means identity features.
  ///   - itemFeatures: `items × itemFeatureCount`; `nil` means identity features.
  ///   - numThreads: worker threads (default: the active cores).
  ///   - checkIntersections: when `true`, a coordinate stored in both matrices is an error.
  ///   - popularity: rank by scores without the item biases or with a popularity penalty (see
  ///     `PopularityControl`), in the same pass; the default ranks by the model's scores.
  ///   - engine: `.blas` (default) or the `.scalar` reference path.
  /// - Returns: a `Float` CSR matrix with the test matrix's structure, holding the ranks.
  /// - Throws: `LightFMError` for an unfitted model, mismatched shapes or feature matrices, a
  ///   train/test overlap, a thread count below 1, or a popularity control that does not fit
  ///   the catalog.
  /// - Complexity: O(U · I · d) arithmetic for the users with test items.
  public func predictRank(
    _ testInteractions: some InteractionMatrix,
    trainInteractions: (any InteractionMatrix)? = nil,
    userFeatures: CSRMatrix? = nil,
    itemFeatures: CSRMatrix? = nil,
    numThreads: Int? = nil,
    checkIntersections: Bool = true,
    popularity: PopularityControl = .none,
    engine: ScoringEngine = .blas
  ) throws -> CSRMatrix {
    try rankAndList(
      testInteractions.interactionsCSR(), train: trainInteractions?.interactionsCSR(),
      userFeatures: userFeatures, itemFeatures: itemFeatures, numThreads: numThreads,
      checkIntersections: checkIntersections, popularity: popularity, listLength: 0,
      engine: engine
    ).ranks
  }

  /// `predictRank`, and with `listLength` k > 0 also the number of distinct items in the top-k
  /// lists (training items left out) of the users with test items, from the same score tiles.
  func rankAndList(
    _ test: CSRMatrix, train: CSRMatrix?, userFeatures: CSRMatrix?, itemFeatures: CSRMatrix?,
    numThreads: Int?, checkIntersections: Bool, popularity: PopularityControl, listLength: Int,
    engine: ScoringEngine
  ) throws -> (ranks: CSRMatrix, listedItems: Int) {
    let threads = try Self.threadCount(numThreads)
    let userReps = try userRepresentationMatrix(userFeatures)
    let itemReps = try itemRepresentationMatrix(itemFeatures)
    try Self.checkEvaluationShapes(
      test: test, train: train, users: userReps.count, items: itemReps.count)
    try popularity.check(items: itemReps.count)
    if checkIntersections, let train {
      let shared = Self.sharedInteractions(test, train)
      if shared > 0 {
        throw LightFMError.invalidData(
          "the test and train interactions share \(shared) interactions, which would make the "
            + "evaluation optimistic: check the split, or turn checkIntersections off")
      }
    }
    let ranker = BlockedRanker(
      users: userReps, items: itemReps, itemBiases: popularity.biasColumn(itemReps.biases),
      test: test, train: train, listLength: listLength, engine: engine, threads: threads)
    return ranker.ranks()
  }

  static func checkEvaluationShapes(
    test: CSRMatrix, train: CSRMatrix?, users: Int, items: Int
  ) throws {
    try checkInteractionMatrix(test, "the test-interaction matrix", users: users, items: items)
    if let train, train.shape != test.shape {
      throw LightFMError.invalidData(
        "the train interactions are \(train.shape.rows) x \(train.shape.columns), the test "
          + "interactions \(test.shape.rows) x \(test.shape.columns): expected the same shape")
    }
  }

  /// The number of coordinates stored in both matrices with a non-zero product (LightFM's
  /// `test.multiply(train).nnz`).
  ///
  /// - Complexity: O(nnz(test) + nnz(train)).
  static func sharedInteractions(_ test: CSRMatrix, _ train: CSRMatrix) -> Int {
    var shared = 0
    for r in 0..<test.shape.rows {
      var a = test.rowPointers[r]
      let aEnd = test.rowPointers[r + 1]
      var b = train.rowPointers[r]
      let bEnd = train.rowPointers[r + 1]
      while a < aEnd && b < bEnd {
        let ca = test.columnIndices[a]
        let cb = train.columnIndices[b]
        if ca < cb {
          a += 1
        } else if cb < ca {
          b += 1
        } else {
          if test.values[a] * train.values[b] != 0 { shared += 1 }
          a += 1
          b += 1
        }
      }
    }
    return shared
  }
}

// MARK: - The ranking engine

/// Scores whole user rows tile by tile and turns them into the ranks of the test items, and
/// optionally into each row's top-k list (for catalog coverage).
struct BlockedRanker {
  let users: Representations
  let items: Representations
  /// The items' bias column when it is not `items.biases` (`PopularityControl`).
  let itemBiases: [Float]?
  let test: CSRMatrix
  let train: CSRMatrix?
  /// k of the top-k lists whose distinct items are counted; 0: no lists.
  let listLength: Int
  let engine: ScoringEngine
  let threads: Int

  /// Test rows up to this length are counted with one 16-wide pass per test item; longer ones
  /// with a binary search per item into the sorted test scores.
  static let directCountLimit = 24

  /// The ranks (a matrix with the test matrix's structure) and the number of distinct items in
  /// the top-`listLength` lists of the users with test items (0 without lists).
  func ranks() -> (ranks: CSRMatrix, listedItems: Int) {
    var ranks = [Float](repeating: 0, count: test.nnz)
    let active = (0..<test.shape.rows).filter { test.rowCount($0) > 0 }
    let itemCount = items.count
    guard !active.isEmpty, itemCount > 0 else {
      let empty = CSRMatrix(
        uncheckedShape: test.shape, rowPointers: test.rowPointers,
        columnIndices: test.columnIndices, values: ranks)
      return (empty, 0)
    }
    let listLength = min(self.listLength, itemCount)
    // Row s's list is lists[s · listLength ..< (s + 1) · listLength], −1 past its end.
    var lists = [Int32](repeating: -1, count: active.count * listLength)
    let activeCount = active.count
    let fair = (activeCount + 4 * threads - 1) / (4 * threads)
    let block = max(
      1, min(ScoringTiles.userBlock, ScoringTiles.rankTileBudget / itemCount, fair))
    let blocks = (activeCount + block - 1) / block
    let longest = active.reduce(0) { max($0, test.rowCount($1)) }
    withExtendedLifetime(ScratchArena()) { arena in
      // One tile holds whole rows: the ranks need every item's score at once.
      let scoring = TileScoring(
        queries: users, rows: active, items: items, itemBiases: itemBiases, engine: engine,
        arena: arena)
      let tests = QueryRows(test, rows: active, arena: arena)
      let known = QueryRows(train, rows: active, arena: arena)
      let outputStart = SharedMutablePointer(arena.copy(active.map { test.rowPointers[$0] }))
      ranks.withUnsafeMutableBufferPointer { rankBuffer in
        lists.withUnsafeMutableBufferPointer { listBuffer in
          let output = SharedMutablePointer(rankBuffer)!
          // An empty array may still have a base address: test the length.
          let listed = listLength > 0 ? SharedMutablePointer(listBuffer) : nil
          Parallel.blocks(
            blocks, threads: threads,
            scratch: {
              RankScratch(
                rows: block, items: itemCount, longest: longest, listLength: listLength, arena: $0)
            }
          ) { b, scratch in
            let lo = b * block
            let m = min(block, activeCount - lo)
            scoring.scoreBlock(lo, count: m, tile: scratch.tile, tileItems: itemCount) { _, _ in
              for r in 0..<m {
                let q = lo + r
                let row = scratch.tile + r * itemCount
                let testItems = tests.columns.base + tests.starts.base[q]
                let p = tests.range(q).count
                for e in 0..<p { scratch.testScores[e] = row[Int(testItems[e])] }
                _ = known.mask(
                  row, query: q, from: known.starts.base[q], first: 0, count: itemCount)
                let out = output.base + outputStart.base[q]
                if p <= Self.directCountLimit {
                  for e in 0..<p {
                    out[e] = Float(Self.countAtLeast(scratch.testScores[e], row, itemCount))
                  }
                } else {
                  Self.countSorted(scratch: scratch, p: p, row: row, count: itemCount, out: out)
                }
                for e in 0..<p where row[Int(testItems[e])] != -.infinity {
                  out[e] -= 1  // the item itself was counted (s ≥ s)
                }
                if let listed, let heap = scratch.heap {
                  // The masked row is what `recommend` would rank: keep its top k.
                  heap.pointee.offer(row: row, count: itemCount, first: 0)
                  let list = listed.base + q * listLength
                  for e in 0..<heap.pointee.count { list[e] = heap.pointee.items[e] }
                  heap.pointee.count = 0
                }
              }
            }
          }
        }
      }
    }
    var seen = [Bool](repeating: false, count: itemCount)
    var listedItems = 0
    for item in lists where item >= 0 && !seen[Int(item)] {
      seen[Int(item)] = true
      listedItems += 1
    }
    let result = CSRMatrix(
      uncheckedShape: test.shape, rowPointers: test.rowPointers,
      columnIndices: test.columnIndices, values: ranks)
    return (result, listedItems)
  }

  /// #{ j < n : row[j] ≥ t }, 16 lanes at a time.
  @inline(__always)
  static func countAtLeast(_ t: Float, _ row: UnsafePointer<Float>, _ n: Int) -> Int {
    let threshold = SIMD16<Float>(repeating: t)
    let one = SIMD16<Int32>(repeating: 1)
    var acc = SIMD16<Int32>()
    var j = 0
    while j + 16 <= n {
      let above = SIMDKernels.load16(row + j) .>= threshold
      acc &+= SIMD16<Int32>().replacing(with: one, where: above)
      j += 16
    }
    var total = Int(acc.wrappedSum())
    while j < n {
      if row[j] >= t { total += 1 }
      j += 1
    }
    return total
  }

  /// Counts, for each of `p` test scores, the row entries ≥ it, through one binary search per
  /// row entry into the sorted test scores and a suffix sum.
  ///
  /// - Complexity: O(p log p + n log p).
  static func countSorted(
    scratch: RankScratch, p: Int, row: UnsafePointer<Float>, count n: Int,
    out: UnsafeMutablePointer<Float>
  ) {
    let sorted = scratch.sorted
    let hist = scratch.histogram
    sorted.update(from: scratch.testScores, count: p)
    var view = UnsafeMutableBufferPointer(start: sorted, count: p)
    view.sort()
    hist.update(repeating: 0, count: p + 1)
    for j in 0..<n {
      let v = row[j]
      // upper bound: how many test scores are ≤ v (NaN and −∞ land at 0).
      var lo = 0
      var hi = p
      while lo < hi {
        let mid = (lo + hi) >> 1
        if sorted[mid] <= v { lo = mid + 1 } else { hi = mid }
      }
      hist[lo] += 1
    }
    // hist[q] := #{ entries whose upper bound is ≥ q }.
    var q = p - 1
    while q >= 0 {
      hist[q] += hist[q + 1]
      q -= 1
    }
    for e in 0..<p {
      let t = scratch.testScores[e]
      var lo = 0
      var hi = p
      while lo < hi {
        let mid = (lo + hi) >> 1
        if sorted[mid] < t { lo = mid + 1 } else { hi = mid }
      }
      out[e] = Float(hist[lo + 1])
    }
  }
}

/// One ranking worker's buffers, from its arena: whole-row score tiles, the test scores
/// of one user with their sorted copy and histogram (`countSorted`), and a top-k heap when
/// the ranker also lists.
struct RankScratch {
  let tile: UnsafeMutablePointer<Float>
  let testScores: UnsafeMutablePointer<Float>
  let sorted: UnsafeMutablePointer<Float>
  let histogram: UnsafeMutablePointer<Int>
  let heap: UnsafeMutablePointer<TopKHeap>?

  init(rows: Int, items: Int, longest: Int, listLength: Int, arena: ScratchArena) {
    tile = arena.allocate(Float.self, count: rows * items)
    testScores = arena.allocate(Float.self, count: longest)
    sorted = arena.allocate(Float.self, count: longest)
    histogram = arena.allocate(Int.self, count: longest + 1)
    if listLength > 0 {
      let heap = arena.allocate(TopKHeap.self, count: 1)
      heap.initialize(
        to: TopKHeap(
          scores: arena.allocate(Float.self, count: listLength),
          items: arena.allocate(Int32.self, count: listLength), capacity: listLength))
      self.heap = heap
    } else {
      heap = nil
    }
  }
}
