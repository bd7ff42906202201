// MARK: - predictRank

extension LightFM {
  /// The rank of every test interaction among the items the user has not trained on.
  ///
  /// ```
  /// rank(u, i) = #{ j ∉ train(u), j ≠ i : s(u, j) ≥ s(u, i) }      (0 is best)
  /// ```
  ///
  /// Other test items count (as in LightFM), and ties count against the item. The test items'
  /// scores are computed first; the users' rows are then scored in `recommend`'s GEMM tiles,
  /// masked for the training items, and each tile row is counted against the sorted test
  /// scores while it is in cache (see `BlockedRanker`).
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

/// Scores users against the catalog in `recommend`'s GEMM tiles and turns the tiles into the
/// ranks of the test items, and optionally into each user's top-k list (catalog coverage).
///
/// Each test item's score is computed first, by one dot product of the same operands the tiles
/// use; a user's test scores, sorted, are then the thresholds that every tile of the user's row
/// is counted against (`SelectionKernels.countAtLeast`, or `countAtLeastSorted`'s binary search
/// per tile score for long test rows), after the training items are masked. A test item counts itself when its tile
/// score reaches its threshold, and that count is taken back. With the `.blas` engine the
/// tile's score and the dot product may round differently in the last bit; only scores equal
/// to within that bit can then change order.
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

  /// Test rows up to this length are counted one wide pass per test score; longer ones by one
  /// binary search per tile score into the sorted test scores. The gathers of that search are
  /// slow on the CPUs measured: on the synthetic set the direct count was as fast or faster up
  /// to this length with AVX-512, AVX2 and the portable C alike.
  static let directCountLimit = 512

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
    let (block, tileItems) = ScoringTiles.shape(
      queries: activeCount, items: itemCount, threads: threads)
    let blocks = (activeCount + block - 1) / block
    let directLimit = Self.directCountLimit
    withExtendedLifetime(ScratchArena()) { arena in
      let scoring = TileScoring(
        queries: users, rows: active, items: items, itemBiases: itemBiases, engine: engine,
        arena: arena)
      // The active rows are the test matrix's non-empty rows in order, so tests.starts[s] is
      // also where row s's ranks go in the output.
      let tests = QueryRows(test, rows: active, arena: arena)
      let known = QueryRows(train, rows: active, arena: arena)
      // The most test entries in one block, and in one row: the sizes of the scratch buffers.
      var entriesPerBlock = 0
      var longest = 0
      for b in 0..<blocks {
        let lo = b * block
        let hi = min(lo + block, activeCount)
        entriesPerBlock = max(entriesPerBlock, tests.starts.base[hi] - tests.starts.base[lo])
        for s in lo..<hi { longest = max(longest, tests.range(s).count) }
      }
      let (blockEntries, longestRow) = (entriesPerBlock, longest)
      ranks.withUnsafeMutableBufferPointer { rankBuffer in
        lists.withUnsafeMutableBufferPointer { listBuffer in
          let output = SharedMutablePointer(rankBuffer)!
          // An empty array may still have a base address: test the length.
          let listed = listLength > 0 ? SharedMutablePointer(listBuffer) : nil
          Parallel.blocks(
            blocks, threads: threads,
            scratch: {
              RankScratch(
                rows: block, tileItems: tileItems, entries: blockEntries, longest: longestRow,
                listLength: listLength, arena: $0)
            }
          ) { b, scratch in
            let lo = b * block
            let m = min(block, activeCount - lo)
            scratch.prepare(block: lo, count: m, tests: tests, scoring: scoring)
            for r in 0..<m {
              scratch.knownCursor[r] = known.starts.base[lo + r]
              scratch.testCursor[r] = tests.starts.base[lo + r]
            }
            scoring.scoreBlock(lo, count: m, tile: scratch.tile, tileItems: tileItems) {
              first, n in
              for r in 0..<m {
                let q = lo + r
                let row = scratch.tile + r * tileItems
                scratch.knownCursor[r] = known.mask(
                  row, query: q, from: scratch.knownCursor[r], first: first, count: n)
                let start = scratch.offsets[r]
                let counted = scratch.countable[r]
                if counted <= directLimit {
                  SelectionKernels.countAtLeast(
                    row, count: n, thresholds: scratch.sorted + start, counted,
                    into: scratch.counts + start)
                } else {
                  SelectionKernels.countAtLeastSorted(
                    row, count: n, thresholds: scratch.sorted + start, counted,
                    histogram: scratch.histogram, into: scratch.counts + start)
                }
                // A test item whose tile score reached its own threshold counted itself.
                let testStart = tests.starts.base[q]
                scratch.testCursor[r] = tests.walk(
                  query: q, from: scratch.testCursor[r], first: first, count: n
                ) { entry, j in
                  let e = start + entry - testStart
                  if row[j] >= scratch.scores[e] { scratch.selfCounted[e] = 1 }
                }
                scratch.heaps?[r].offer(row: row, count: n, first: first)
              }
            }
            for r in 0..<m {
              let q = lo + r
              scratch.writeRanks(row: r, into: output.base + tests.starts.base[q])
              if let listed, let heap = scratch.heaps?.advanced(by: r) {
                let list = listed.base + q * listLength
                for e in 0..<heap.pointee.count { list[e] = heap.pointee.items[e] }
                heap.pointee.count = 0
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
}

/// One ranking worker's buffers, from its arena, for a block of users: the score tile, each
/// user's test scores in test-matrix order and sorted (with the order between them), their
/// counts, which test items counted themselves, the walks through the training and test rows,
/// and a top-k heap per user when the ranker also lists.
struct RankScratch {
  let tile: UnsafeMutablePointer<Float>
  /// User r's entries are `offsets[r] ..< offsets[r + 1]` of the per-entry buffers.
  let offsets: UnsafeMutablePointer<Int>
  /// Test scores in the test matrix's order.
  let scores: UnsafeMutablePointer<Float>
  /// The same scores ascending, NaN last.
  let sorted: UnsafeMutablePointer<Float>
  /// `order[offsets[r] + s]`: the entry (within user r) of sorted score s.
  let order: UnsafeMutablePointer<Int32>
  /// Counts of tile scores at or above each sorted score.
  let counts: UnsafeMutablePointer<Int64>
  /// 1 where a test item's own tile score was counted, in the test matrix's order.
  let selfCounted: UnsafeMutablePointer<Int64>
  /// The number of user r's sorted scores that are not NaN (a NaN score counts nothing).
  let countable: UnsafeMutablePointer<Int>
  /// Where each user's walks through its training and test entries stand (`QueryRows.walk`).
  let knownCursor: UnsafeMutablePointer<Int>
  let testCursor: UnsafeMutablePointer<Int>
  let histogram: UnsafeMutablePointer<Int64>
  let heaps: UnsafeMutablePointer<TopKHeap>?

  init(
    rows: Int, tileItems: Int, entries: Int, longest: Int, listLength: Int,
    arena: ScratchArena
  ) {
    tile = arena.allocate(Float.self, count: rows * tileItems)
    offsets = arena.allocate(Int.self, count: rows + 1)
    scores = arena.allocate(Float.self, count: entries)
    sorted = arena.allocate(Float.self, count: entries)
    order = arena.allocate(Int32.self, count: entries)
    counts = arena.allocate(Int64.self, count: entries)
    selfCounted = arena.allocate(Int64.self, count: entries)
    countable = arena.allocate(Int.self, count: rows)
    knownCursor = arena.allocate(Int.self, count: rows)
    testCursor = arena.allocate(Int.self, count: rows)
    histogram = arena.allocate(Int64.self, count: longest + 1)
    if listLength > 0 {
      let heaps = arena.allocate(TopKHeap.self, count: rows)
      let heapScores = arena.allocate(Float.self, count: rows * listLength)
      let heapItems = arena.allocate(Int32.self, count: rows * listLength)
      for r in 0..<rows {
        (heaps + r).initialize(
          to: TopKHeap(
            scores: heapScores + r * listLength, items: heapItems + r * listLength,
            capacity: listLength))
      }
      self.heaps = heaps
    } else {
      heaps = nil
    }
  }

  /// Computes and sorts the test scores of users `lo ..< lo + m` and clears their counts.
  func prepare(block lo: Int, count m: Int, tests: QueryRows, scoring: TileScoring) {
    let w = scoring.width
    var at = 0
    for r in 0..<m {
      offsets[r] = at
      let range = tests.range(lo + r)
      let a = scoring.a.base + (lo + r) * w
      for (e, entry) in range.enumerated() {
        let item = Int(tests.columns.base[entry])
        scores[at + e] = SIMDKernels.dot(a, scoring.b.base + item * w, w)
        order[at + e] = Int32(e)
      }
      let p = range.count
      var view = UnsafeMutableBufferPointer(start: order + at, count: p)
      let userScores = scores + at
      view.sort { x, y in
        let sx = userScores[Int(x)]
        let sy = userScores[Int(y)]
        // NaN after every number; otherwise ascending, ties by entry for a fixed order.
        if sx.isNaN || sy.isNaN { return !sx.isNaN && sy.isNaN }
        return sx < sy || (sx == sy && x < y)
      }
      var numbers = 0
      for s in 0..<p {
        let v = userScores[Int(order[at + s])]
        sorted[at + s] = v
        if !v.isNaN { numbers += 1 }
      }
      countable[r] = numbers
      (counts + at).update(repeating: 0, count: p)
      (selfCounted + at).update(repeating: 0, count: p)
      at += p
    }
    offsets[m] = at
  }

  /// Writes user r's ranks, in the test matrix's order.
  func writeRanks(row r: Int, into out: UnsafeMutablePointer<Float>) {
    let start = offsets[r]
    let p = offsets[r + 1] - start
    for s in 0..<p {
      let e = Int(order[start + s])
      out[e] = Float(counts[start + s] - selfCounted[start + e])
    }
  }
}
