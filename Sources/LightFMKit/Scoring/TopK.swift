/// A bounded min-heap of (score, item) that keeps the k best entries of a stream.
///
/// "Better" means a higher score, or the same score and a lower item index. The root is the
/// worst kept entry, so `threshold` is what a new entry must beat. Storage is caller-owned: the
/// scorer keeps one heap per user of its block in a per-worker buffer and reuses it.
struct TopKHeap {
  let scores: UnsafeMutablePointer<Float>
  let items: UnsafeMutablePointer<Int32>
  let capacity: Int
  var count: Int = 0

  init(scores: UnsafeMutablePointer<Float>, items: UnsafeMutablePointer<Int32>, capacity: Int) {
    self.scores = scores
    self.items = items
    self.capacity = capacity
  }

  /// The score a new entry must exceed: −∞ while the heap is not full.
  ///
  /// Entries arrive in increasing item order, so an equal score never displaces a kept entry:
  /// the lower index wins ties.
  @inline(__always)
  var threshold: Float { count < capacity ? -Float.infinity : scores[0] }

  @inline(__always)
  static func worse(_ s1: Float, _ i1: Int32, _ s2: Float, _ i2: Int32) -> Bool {
    s1 < s2 || (s1 == s2 && i1 > i2)
  }

  /// Adds an entry that beats `threshold`.
  @inline(__always)
  mutating func push(_ score: Float, _ item: Int32) {
    if count < capacity {
      var i = count
      count += 1
      while i > 0 {
        let parent = (i - 1) >> 1
        guard Self.worse(score, item, scores[parent], items[parent]) else { break }
        scores[i] = scores[parent]
        items[i] = items[parent]
        i = parent
      }
      scores[i] = score
      items[i] = item
    } else {
      siftDown(score, item, count)
    }
  }

  /// Places (score, item) at the root and restores the heap over the first `n` entries.
  @inline(__always)
  private func siftDown(_ score: Float, _ item: Int32, _ n: Int) {
    var i = 0
    while true {
      let left = 2 * i + 1
      if left >= n { break }
      var child = left
      let right = left + 1
      if right < n && Self.worse(scores[right], items[right], scores[left], items[left]) {
        child = right
      }
      guard Self.worse(scores[child], items[child], score, item) else { break }
      scores[i] = scores[child]
      items[i] = items[child]
      i = child
    }
    scores[i] = score
    items[i] = item
  }

  /// Empties the heap into `out` (best first) and resets it. `map` turns a stored index into
  /// the reported item; `offset` is added to every score (the user bias).
  ///
  /// - Returns: the number of entries written.
  mutating func drain(
    into out: UnsafeMutablePointer<ScoredIndex>, offset: Float, map: UnsafePointer<Int32>?
  ) -> Int {
    let n = count
    var remaining = n
    while remaining > 0 {
      let s = scores[0]
      let it = items[0]
      remaining -= 1
      let lastScore = scores[remaining]
      let lastItem = items[remaining]
      siftDown(lastScore, lastItem, remaining)
      let reported = map.map { Int($0[Int(it)]) } ?? Int(it)
      (out + remaining).initialize(to: ScoredIndex(index: reported, score: s + offset))
    }
    count = 0
    return n
  }

  /// Offers every entry of `row[0..<n]` (item indices `first..<first + n`).
  ///
  /// The kernel finds the next entry above the current k-th best (a wide compare of many
  /// entries at a time), so once the heap is full almost every entry costs one lane of one
  /// compare; −∞ entries (masked items) and NaN never enter.
  ///
  /// - Complexity: O(n) plus O(log k) per entry that enters the heap.
  @inline(__always)
  mutating func offer(row: UnsafePointer<Float>, count n: Int, first: Int) {
    var j = SelectionKernels.nextAbove(row, from: 0, count: n, threshold)
    while j < n {
      push(row[j], Int32(truncatingIfNeeded: first + j))
      j = SelectionKernels.nextAbove(row, from: j + 1, count: n, threshold)
    }
  }
}
