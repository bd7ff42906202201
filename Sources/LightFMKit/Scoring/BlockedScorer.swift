/// How scores are computed: one GEMM per tile, or one dot product per (user, item) pair.
public enum ScoringEngine: String, CaseIterable, Sendable {
  /// Tiles of `[R_u]·[R_i]ᵀ` through single-threaded `cblas_sgemm` (the fast path).
  case blas
  /// A 16-wide SIMD dot product per pair, as LightFM scores (the reference path). Same
  /// threading, same tiles, same top-k selection: only the way a tile is filled differs.
  case scalar
}

/// Tile sizes of the blocked scorer, chosen by measurement on the 2-core development machine
/// (AMD EPYC with AVX2, OpenBLAS's Zen kernels, 100,000 × 50,000, d = 32, top-10): 256 × 1024
/// beat 256 × 4096, 128 × 1024, 128 × 512, 64 × 1024 and 64 × 8192, both as a bare blocked
/// sgemm and with the selection. Its 1 MB tile stays in the cache the selection then reads.
/// With the C selection kernels (an AVX-512 host), 128 × 1024, 256 × 512, 512 × 512,
/// 512 × 256, 128 × 2048, 256 × 128, 64 × 256 and 256 × 64 gave 0.81–0.88 of their own bare
/// sgemm, and this one 0.88. `predictRank` uses the same tiles.
enum ScoringTiles {
  /// Users per block: one worker scores a block against the whole catalog.
  static let userBlock = 256
  /// Items per GEMM tile: the scratch tile is `userBlock × itemTile` floats, reused for the run.
  static let itemTile = 1024

  /// Users per block and items per tile for `queries × items` on `threads` workers: blocks
  /// shrink when there are few queries, so that every worker gets several.
  static func shape(
    queries: Int, items: Int, threads: Int, userBlock: Int = userBlock,
    itemTile: Int = itemTile
  ) -> (block: Int, tileItems: Int) {
    let block = max(1, min(userBlock, (queries + 4 * threads - 1) / (4 * threads)))
    return (block, max(16, min(itemTile, items)))
  }

  /// The number of cores the process may use.
  static var defaultThreads: Int { Parallel.processorCount }
}

// MARK: - Whole-catalog top-k

/// The blocked top-k scorer: queries × items, tile by tile, never the whole score matrix.
///
/// ```
/// s(u, i) = b_u + (p_u · q_i + b_i)
/// ```
///
/// The bracket is what the tile holds: one GEMM of `[p_u | 1]` against `[q_i | b_i]`; `b_u` does
/// not change a row's ranking and is added to the k survivors only.
struct BlockedScorer {
  /// Query rows (users, or items for similarity).
  var queries: Representations
  /// Which query rows to score, in output order; `nil` means all.
  var queryRows: [Int]?
  /// The packed item rows to rank.
  var items: Representations
  /// The packed items' bias column when it is not `items.biases` (`PopularityControl`).
  var itemBiases: [Float]?
  /// packed index → reported item index; `nil` when the items are not packed.
  var itemMap: [Int32]?
  /// reported item index → packed index or −1; `nil` when the items are not packed.
  var packedIndex: [Int32]?
  /// Known items per query row (indexed by the query's row and the reported item index).
  var exclusion: CSRMatrix?
  /// Also drop item q from the list of query row q (similarity).
  var excludeSelf = false
  var engine: ScoringEngine = .blas
  var threads: Int = ScoringTiles.defaultThreads
  var userBlock = ScoringTiles.userBlock
  var itemTile = ScoringTiles.itemTile

  /// The top `k` items of every query, best first.
  ///
  /// - Complexity: O(Q · I · d) arithmetic, O(threads · tile + Q · (k + d)) memory.
  func topK(_ k: Int) -> Recommendations {
    let rows = queryRows ?? Array(0..<queries.count)
    let itemCount = items.count
    let kk = max(0, min(k, itemCount))
    var counts = [Int32](repeating: 0, count: rows.count)
    guard kk > 0, !rows.isEmpty else {
      return Recommendations(queries: rows, k: kk, storage: [], counts: counts)
    }
    let queryCount = rows.count
    let (block, tileItems) = ScoringTiles.shape(
      queries: queryCount, items: itemCount, threads: threads, userBlock: userBlock,
      itemTile: itemTile)
    let blocks = (queryCount + block - 1) / block
    var storage = [ScoredIndex](
      repeating: ScoredIndex(index: -1, score: -.infinity), count: queryCount * kk)
    withExtendedLifetime(ScratchArena()) { arena in
      let scoring = TileScoring(
        queries: queries, rows: rows, items: items, itemBiases: itemBiases, engine: engine,
        arena: arena)
      let packed = packedIndex
      let known = QueryRows(
        exclusion, rows: rows, position: packed,
        extra: excludeSelf ? { q in packed.map { $0[q] } ?? Int32(q) } : nil, arena: arena)
      let queryBiases = SharedMutablePointer(arena.copy(rows.map { queries.biases[$0] }))
      let map = itemMap.map { SharedMutablePointer(arena.copy($0)) }
      storage.withUnsafeMutableBufferPointer { storageBuffer in
        counts.withUnsafeMutableBufferPointer { countBuffer in
          let output = SharedMutablePointer(storageBuffer)!
          let written = SharedMutablePointer(countBuffer)!
          Parallel.blocks(
            blocks, threads: threads,
            scratch: { TopKScratch(rows: block, tileItems: tileItems, k: kk, arena: $0) }
          ) { b, scratch in
            let lo = b * block
            let m = min(block, queryCount - lo)
            for r in 0..<m { scratch.cursor[r] = known.starts.base[lo + r] }
            scoring.scoreBlock(lo, count: m, tile: scratch.tile, tileItems: tileItems) {
              first, n in
              for r in 0..<m {
                let row = scratch.tile + r * tileItems
                scratch.cursor[r] = known.mask(
                  row, query: lo + r, from: scratch.cursor[r], first: first, count: n)
                scratch.heaps[r].offer(row: row, count: n, first: first)
              }
            }
            for r in 0..<m {
              let q = lo + r
              let n = scratch.heaps[r].drain(
                into: output.base + q * kk, offset: queryBiases.base[q], map: map?.base)
              written.base[q] = Int32(n)
            }
          }
        }
      }
    }
    return Recommendations(queries: rows, k: kk, storage: storage, counts: counts)
  }
}

/// One top-k worker's buffers, from its arena: the score tile, a heap per query of a block,
/// and each query's position in its row of known items.
struct TopKScratch {
  let tile: UnsafeMutablePointer<Float>
  let heaps: UnsafeMutablePointer<TopKHeap>
  let cursor: UnsafeMutablePointer<Int>

  init(rows: Int, tileItems: Int, k: Int, arena: ScratchArena) {
    tile = arena.allocate(Float.self, count: rows * tileItems)
    let scores = arena.allocate(Float.self, count: rows * k)
    let items = arena.allocate(Int32.self, count: rows * k)
    heaps = arena.allocate(TopKHeap.self, count: rows)
    for r in 0..<rows {
      (heaps + r).initialize(
        to: TopKHeap(scores: scores + r * k, items: items + r * k, capacity: k))
    }
    cursor = arena.allocate(Int.self, count: rows)
  }
}
