import Dispatch
import Synchronization

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
enum ScoringTiles {
  /// Users per block: one worker scores a block against the whole catalog.
  static let userBlock = 256
  /// Items per GEMM tile: the scratch tile is `userBlock × itemTile` floats, reused for the run.
  static let itemTile = 1024
  /// A budget (in floats) for the full-row tiles of `predictRank`, per worker.
  static let rankTileBudget = 1 << 20

  /// The number of cores the process may use.
  static var defaultThreads: Int { max(1, sysconfThreads()) }
}

extension ScoringEngine {
  /// The tile `recommend` scores at once: users per block × items per GEMM call (for benchmarks
  /// that compare against a bare blocked `cblas_sgemm` over the same shapes).
  public static var tileShape: (users: Int, items: Int) {
    (ScoringTiles.userBlock, ScoringTiles.itemTile)
  }
}

// MARK: - Filling a tile

extension ScoringEngine {
  /// Fills `c[r · ldc + j] = a_r · b_j` for `r < m`, `j < n`, with `a` (`m × d`) and `b`
  /// (`n × d`) row-major.
  ///
  /// - Complexity: O(m · n · d).
  @inline(__always)
  func fillTile(
    a: UnsafePointer<Float>, m: Int, b: UnsafePointer<Float>, n: Int, d: Int,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    switch self {
    case .blas:
      BLAS.gemm(
        transposeA: false, transposeB: true, m: m, n: n, k: d, alpha: 1,
        a: a, lda: d, b: b, ldb: d, beta: 0, c: c, ldc: ldc)
    case .scalar:
      ScalarScorer.fillTile(a: a, m: m, b: b, n: n, d: d, c: c, ldc: ldc)
    }
  }
}

// MARK: - Parallel blocks

/// Runs `body(block, worker state)` over `blocks` blocks on `threads` workers, handing out
/// blocks dynamically (the host is noisy) with OpenBLAS pinned to one thread.
enum ParallelBlocks {
  final class Counter: Sendable {
    let next = Atomic<Int>(0)
  }

  static func run<State>(
    blocks: Int, threads: Int,
    makeState: @Sendable () -> State,
    body: @Sendable (Int, inout State) -> Void,
    finish: @Sendable (inout State) -> Void
  ) {
    guard blocks > 0 else { return }
    let workers = max(1, min(threads, blocks))
    let counter = Counter()
    BLAS.withThreads(1) {
      DispatchQueue.concurrentPerform(iterations: workers) { _ in
        var state = makeState()
        while true {
          let block = counter.next.wrappingAdd(1, ordering: .relaxed).oldValue
          if block >= blocks { break }
          body(block, &state)
        }
        finish(&state)
      }
    }
  }
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
  /// - Complexity: O(Q · I · d) arithmetic, O(threads · tile + Q · k) memory.
  func topK(_ k: Int) -> Recommendations {
    let rows = queryRows ?? Array(0..<queries.count)
    let itemCount = items.count
    let kk = max(0, min(k, itemCount))
    var storage = [ScoredItem]()
    var counts = [Int32](repeating: 0, count: rows.count)
    guard kk > 0, !rows.isEmpty else {
      return Recommendations(queries: rows, k: kk, storage: storage, counts: counts)
    }
    let d = queries.dimension
    let w = d + 1
    // Blocks shrink when there are few queries, so every worker gets several.
    let block = max(1, min(userBlock, (rows.count + 4 * threads - 1) / (4 * threads)))
    let tile = max(16, min(itemTile, itemCount))
    let blocks = (rows.count + block - 1) / block
    let (engine, excludeSelf) = (self.engine, self.excludeSelf)
    let (queryE, queryB, itemE) = (queries.embeddings, queries.biases, items.withBiasColumn())
    let itemMap = self.itemMap
    let packed = self.packedIndex ?? []
    let isPacked = self.packedIndex != nil
    let exclusionRows = exclusion?.shape.rows ?? 0
    let exclusionPointers = exclusion?.rowPointers ?? [0]
    let exclusionColumns = exclusion?.columnIndices ?? []

    storage = [ScoredItem](
      repeating: ScoredItem(item: -1, score: -.infinity), count: rows.count * kk)
    storage.withUnsafeMutableBufferPointer { storageBuffer in
      counts.withUnsafeMutableBufferPointer { countBuffer in
        let output = SharedMutablePointer(storageBuffer)!
        let countOut = SharedMutablePointer(countBuffer)!
        ParallelBlocks.run(
          blocks: blocks, threads: threads,
          makeState: { WorkerScratch(rows: block, d: w, tile: tile, k: kk) },
          body: { b, scratch in
            let lo = b * block
            let m = min(block, rows.count - lo)
            queryE.withUnsafeBufferPointer { qe in
              itemE.withUnsafeBufferPointer { ie in
                exclusionPointers.withUnsafeBufferPointer { xp in
                  exclusionColumns.withUnsafeBufferPointer { xc in
                    packed.withUnsafeBufferPointer { pk in
                      // Gather the block's query rows into the contiguous A operand, [p_u | 1].
                      for r in 0..<m {
                        let q = rows[lo + r]
                        (scratch.a + r * w).update(from: qe.baseAddress! + q * d, count: d)
                        scratch.a[r * w + d] = 1
                        scratch.cursor[r] = q < exclusionRows ? xp[q] : 0
                      }
                      var j0 = 0
                      while j0 < itemCount {
                        let n = min(tile, itemCount - j0)
                        engine.fillTile(
                          a: scratch.a, m: m, b: ie.baseAddress! + j0 * w, n: n, d: w,
                          c: scratch.tile, ldc: tile)
                        for r in 0..<m {
                          let row = scratch.tile + r * tile
                          let q = rows[lo + r]
                          if q < exclusionRows {
                            scratch.cursor[r] = Self.mask(
                              row: row, columns: xc, from: scratch.cursor[r], to: xp[q + 1],
                              packed: isPacked ? pk.baseAddress : nil, lo: j0, hi: j0 + n)
                          }
                          if excludeSelf {
                            let p = isPacked ? Int(pk[q]) : q
                            if p >= j0 && p < j0 + n { row[p - j0] = -.infinity }
                          }
                          scratch.heaps[r].offer(row: row, count: n, first: j0)
                        }
                        j0 += n
                      }
                    }
                  }
                }
              }
            }
            itemMap.withUnsafeBufferPointerIfPresent { map in
              for r in 0..<m {
                let slot = lo + r
                let written = scratch.heaps[r].drain(
                  into: output.base + slot * kk, offset: queryB[rows[slot]], map: map)
                countOut.base[slot] = Int32(written)
              }
            }
          },
          finish: { scratch in scratch.deallocate() })
      }
    }
    return Recommendations(queries: rows, k: kk, storage: storage, counts: counts)
  }

  /// Sets the known items that fall in the tile `lo..<hi` to −∞.
  ///
  /// Walks the query's sorted exclusion row `columns[from..<to]` (in reported item indices,
  /// mapped through `packed` when the items are a packed subset) and returns where it stopped,
  /// so each row is walked once over the whole run of tiles.
  @inline(__always)
  static func mask(
    row: UnsafeMutablePointer<Float>, columns: UnsafeBufferPointer<Int32>, from: Int, to end: Int,
    packed: UnsafePointer<Int32>?, lo: Int, hi: Int
  ) -> Int {
    var n = from
    if let packed {
      while n < end {
        let p = Int(packed[Int(columns[n])])
        if p >= hi { break }
        if p >= lo { row[p - lo] = -.infinity }
        n += 1
      }
    } else {
      while n < end {
        let p = Int(columns[n])
        if p >= hi { break }
        if p >= lo { row[p - lo] = -.infinity }
        n += 1
      }
    }
    return n
  }
}

/// One worker's buffers, allocated once and reused for every block.
struct WorkerScratch {
  let a: UnsafeMutablePointer<Float>
  let tile: UnsafeMutablePointer<Float>
  let heapScores: UnsafeMutablePointer<Float>
  let heapItems: UnsafeMutablePointer<Int32>
  let heaps: UnsafeMutablePointer<TopKHeap>
  let cursor: UnsafeMutablePointer<Int>
  let rows: Int

  init(rows: Int, d: Int, tile: Int, k: Int) {
    self.rows = rows
    a = .allocate(capacity: rows * d)
    self.tile = .allocate(capacity: rows * tile)
    heapScores = .allocate(capacity: rows * k)
    heapItems = .allocate(capacity: rows * k)
    heaps = .allocate(capacity: rows)
    cursor = .allocate(capacity: rows)
    for r in 0..<rows {
      (heaps + r).initialize(
        to: TopKHeap(scores: heapScores + r * k, items: heapItems + r * k, capacity: k))
    }
  }

  func deallocate() {
    a.deallocate()
    tile.deallocate()
    heapScores.deallocate()
    heapItems.deallocate()
    heaps.deinitialize(count: rows)
    heaps.deallocate()
    cursor.deallocate()
  }
}

extension Optional where Wrapped == [Int32] {
  /// Runs `body` with the array's base address, or `nil` when there is no array.
  func withUnsafeBufferPointerIfPresent<R>(_ body: (UnsafePointer<Int32>?) -> R) -> R {
    switch self {
    case .none: return body(nil)
    case .some(let array): return array.withUnsafeBufferPointer { body($0.baseAddress) }
    }
  }
}
