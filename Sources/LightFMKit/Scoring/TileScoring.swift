/// The GEMM-tile scoring behind top-k (`BlockedScorer`) and ranking (`BlockedRanker`).
///
/// ```
/// A = [p_u | 1]     one row per query, gathered once        (queries × (d + 1))
/// B = [q_i | b_i]   one row per item                        (items × (d + 1))
/// tile = A[block] · B[first ..< first + n]ᵀ     tile(r, j) = p_u·q_{first+j} + b_{first+j}
/// ```
///
/// The query bias b_u is left out: it does not change the order within a query's row, and each
/// consumer adds it where it needs it. B's last column is the items' biases unless the caller
/// replaces it (`PopularityControl.biasColumn`: no item biases, or a popularity penalty), so
/// that control costs nothing per score. The operands live in the call's `ScratchArena` and the
/// workers share them read-only; each worker scores into its own tile.
struct TileScoring: Sendable {
  /// A, `queryCount × width`.
  let a: SharedMutablePointer<Float>
  /// B, `itemCount × width`.
  let b: SharedMutablePointer<Float>
  let queryCount: Int
  let itemCount: Int
  /// d + 1, the operands' row length.
  let width: Int
  let engine: ScoringEngine

  /// Gathers rows `rows` of `queries` (in that order) and every item into `arena`.
  ///
  /// - Parameter itemBiases: B's last column, one value per item; `nil`: `items.biases`.
  /// - Complexity: O((rows + items) · d).
  init(
    queries: Representations, rows: [Int], items: Representations, itemBiases: [Float]? = nil,
    engine: ScoringEngine, arena: ScratchArena
  ) {
    precondition(queries.dimension == items.dimension, "queries and items differ in dimension")
    precondition(itemBiases.map { $0.count == items.count } ?? true, "one bias per item")
    let d = queries.dimension
    let w = d + 1
    let a = arena.allocate(Float.self, count: rows.count * w)
    let b = arena.allocate(Float.self, count: items.count * w)
    queries.embeddings.withUnsafeBufferPointer { e in
      for (r, q) in rows.enumerated() {
        precondition(q >= 0 && q < queries.count, "query row \(q) outside 0..<\(queries.count)")
        (a + r * w).update(from: e.baseAddress! + q * d, count: d)
        a[r * w + d] = 1
      }
    }
    let column = itemBiases ?? items.biases
    items.embeddings.withUnsafeBufferPointer { e in
      for i in 0..<items.count {
        (b + i * w).update(from: e.baseAddress! + i * d, count: d)
        b[i * w + d] = column[i]
      }
    }
    self.a = SharedMutablePointer(a)
    self.b = SharedMutablePointer(b)
    queryCount = rows.count
    itemCount = items.count
    width = w
    self.engine = engine
  }

  /// Scores queries `lo ..< lo + m` against every item, at most `tileItems` items at a time
  /// into `tile` (row stride `tileItems`), and hands each tile to `consume(first, n)`: row r
  /// of the tile then holds query lo + r's scores for items `first ..< first + n`.
  ///
  /// - Complexity: O(m · items · d).
  @inline(__always)
  func scoreBlock(
    _ lo: Int, count m: Int, tile: UnsafeMutablePointer<Float>, tileItems: Int,
    _ consume: (_ first: Int, _ count: Int) -> Void
  ) {
    assert(lo >= 0 && m >= 1 && lo + m <= queryCount, "block outside the queries")
    assert(tileItems >= 1, "empty tile")
    var first = 0
    while first < itemCount {
      let n = min(tileItems, itemCount - first)
      engine.fillTile(
        a: a.base + lo * width, m: m, b: b.base + first * width, n: n, d: width, c: tile,
        ldc: tileItems)
      consume(first, n)
      first += n
    }
  }
}

/// Sparse rows gathered for the queries of a scoring call, in the call's `ScratchArena`: row s
/// holds the sorted item columns of query s (known items to mask, or test items to rank).
struct QueryRows: Sendable {
  /// Row s is `columns[starts[s] ..< starts[s + 1]]`.
  let starts: SharedMutablePointer<Int>
  let columns: SharedMutablePointer<Int32>

  /// Rows `rows` of `matrix` (empty past its last row, or without a matrix).
  ///
  /// - Parameters:
  ///   - position: maps a column to the scored item index, −1 when it is not scored (candidate
  ///     lists); it must keep the columns' order.
  ///   - extra: one more item per query (similarity drops the query itself), or nil.
  /// - Complexity: O(rows + the rows' entries).
  init(
    _ matrix: CSRMatrix?, rows: [Int], position: [Int32]? = nil,
    extra: ((_ query: Int) -> Int32)? = nil, arena: ScratchArena
  ) {
    let stored = matrix?.shape.rows ?? 0
    let pointers = matrix?.rowPointers ?? [0]
    let starts = arena.allocate(Int.self, count: rows.count + 1)
    var capacity = 0
    for q in rows where q < stored { capacity += pointers[q + 1] - pointers[q] }
    if extra != nil { capacity += rows.count }
    let columns = arena.allocate(Int32.self, count: capacity)
    (matrix?.columnIndices ?? []).withUnsafeBufferPointer { source in
      var n = 0
      starts[0] = 0
      for (s, q) in rows.enumerated() {
        let row = q < stored ? pointers[q]..<pointers[q + 1] : 0..<0
        if position == nil && extra == nil {
          if !row.isEmpty {
            (columns + n).update(from: source.baseAddress! + row.lowerBound, count: row.count)
          }
          n += row.count
        } else {
          let added = extra.map { $0(q) } ?? -1
          var pending = added >= 0
          for e in row {
            let p = position.map { $0[Int(source[e])] } ?? source[e]
            if p < 0 { continue }
            if pending && added <= p {
              columns[n] = added
              n += 1
              pending = false
            }
            columns[n] = p
            n += 1
          }
          if pending {
            columns[n] = added
            n += 1
          }
        }
        starts[s + 1] = n
      }
      assert(n <= capacity)
    }
    self.starts = SharedMutablePointer(starts)
    self.columns = SharedMutablePointer(columns)
  }

  /// The row of query `s`, as a range of `columns`.
  @inline(__always)
  func range(_ s: Int) -> Range<Int> { starts.base[s]..<starts.base[s + 1] }

  /// Calls `body(entry, j)` for the entries of query `s`'s row that fall in the tile of items
  /// `first ..< first + n` (j = column − first), walking the row from `from`; returns where the
  /// walk stopped, so that a row is walked once over all of a query's tiles.
  @inline(__always)
  func walk(
    query s: Int, from: Int, first: Int, count n: Int, _ body: (_ entry: Int, _ j: Int) -> Void
  ) -> Int {
    let end = starts.base[s + 1]
    assert(from >= starts.base[s] && from <= end, "walk outside the query's row")
    var e = from
    while e < end {
      let j = Int(columns.base[e]) - first
      if j >= n { break }
      assert(j >= 0, "a query's row must be sorted and walked tile by tile")
      body(e, j)
      e += 1
    }
    return e
  }

  /// Sets to −∞ the scores in `row` (items `first ..< first + n`) of the items in query `s`'s
  /// row (`walk`).
  @inline(__always)
  func mask(
    _ row: UnsafeMutablePointer<Float>, query s: Int, from: Int, first: Int, count n: Int
  ) -> Int {
    walk(query: s, from: from, first: first, count: n) { _, j in row[j] = -.infinity }
  }
}

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
