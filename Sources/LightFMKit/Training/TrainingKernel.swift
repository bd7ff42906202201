import Foundation

/// One stored interaction as the trainer visits it: 16 bytes, packed so an epoch reads them
/// sequentially after the shuffle.
struct TrainingExample: Sendable {
  var user: Int32
  var item: Int32
  /// The sample weight (1 without weights); examples of weight 0 are dropped beforehand.
  var weight: Float
  /// 1 for a positive (value > 0), 0 otherwise.
  var label: Float
}

/// Everything a worker needs to train, as raw pointers shared by every Hogwild worker.
///
/// The parameter pointers are written by all workers without locks: that race is the point of
/// Hogwild (Recht et al. 2011), and `SharedMutablePointer` documents it.
struct TrainingContext: Sendable {
  let d: Int
  let loss: LightFM.Loss
  let optimiser: Optimiser
  let userRows: SparseRows
  let itemRows: SparseRows
  let users: ParameterSide
  let items: ParameterSide
  /// Each user's stored items (any value): the "is j one of the user's items" lookup (empty
  /// rows for logistic, which never looks).
  let known: SparseRows
  /// Each user's positive items (value > 0): WARP-kOS samples its positives here (empty rows
  /// for the other losses).
  let positives: SparseRows
  /// The item of every stored entry, for BPR's popularity-proportional negatives.
  let entryItems: SharedMutablePointer<Int32>
  let entryCount: Int
  /// N, the number of items (rows of the item features): WARP draws negatives in 0..<N.
  let itemCount: Int
  let maxSampled: Int
  let k: Int
  let n: Int
  /// Slots of WARP-kOS's top-k scratch: min(k, n, longest positives row) for `.warpKOS`, else
  /// 1, so a huge `k` never sizes an allocation (the k-th pick is always within it).
  let topCapacity: Int
  /// Whether either side has α > 0, so examples advance the lazy L2 scales (`LazyL2`).
  let lazyL2: Bool
  /// Serialises several workers' folds into the lazy L2 scales and the rare mid-epoch
  /// division of the sides by them (`LazyL2.advance`).
  let lazyL2Lock: NSLock
  /// Whether the kernels compute each example's loss for the epoch's mean (`EpochLoss`).
  let measuresLoss: Bool
}

/// A worker's running total of the loss over the examples it trained in one epoch.
///
/// Each worker keeps its own (a local of its closure, added to once per chunk), and the epoch
/// folds them after the workers finish: the loss never touches shared memory while training.
struct EpochLoss {
  /// Σ of the examples' losses (`TrainingKernel.train`), in Double.
  var sum: Double = 0
  /// The examples visited, those that made no update included.
  var examples = 0
}

/// The per-example kernels of one Hogwild worker: representations, losses and updates.
///
/// Every method reads and writes through unsafe pointers into the worker's own scratch rows
/// and the shared parameters; nothing allocates, nothing retains, nothing is bounds-checked
/// (the trainer validated every index before the epoch).
struct TrainingKernel {
  let c: TrainingContext
  /// Scratch: the user representation, the positive and negative item representations, the
  /// user's gradient direction (d floats each), then WARP-kOS's top-k items and scores.
  private let userScratch: UnsafeMutablePointer<Float>
  private let positiveScratch: UnsafeMutablePointer<Float>
  private let negativeScratch: UnsafeMutablePointer<Float>
  private let gradientScratch: UnsafeMutablePointer<Float>
  private let topItems: UnsafeMutablePointer<Int32>
  private let topScores: UnsafeMutablePointer<Float>
  /// This worker's lazy L2 factors not yet folded into the shared scales (`LazyL2`).
  private let pending: UnsafeMutablePointer<PendingScales>
  /// Examples per fold of `pending`: 1 on one thread, `LazyL2.workerBatch` on several (which
  /// then fold under the lock).
  private let scaleBatch: Int

  /// The most draws BPR makes to find a negative before skipping the example.
  private static let bprDrawLimit = 1000
  /// The WARP loss cap, as LightFM.
  private static let maxLoss: Float = 10

  /// Runs `body` with a kernel whose scratch lives for the call; `threads` is the number of
  /// workers training at once.
  static func withKernel<R>(
    _ c: TrainingContext, threads: Int, _ body: (TrainingKernel) -> R
  ) -> R {
    let top = max(c.topCapacity, 1)
    return withExtendedLifetime(ScratchArena()) { arena in
      let floats = arena.allocate(Float.self, count: 4 * c.d + top)
      let items = arena.allocate(Int32.self, count: top)
      let pending = arena.allocate(PendingScales.self, count: 1)
      floats.initialize(repeating: 0, count: 4 * c.d + top)
      items.initialize(repeating: 0, count: top)
      pending.initialize(to: PendingScales())
      let kernel = TrainingKernel(
        c: c, scratch: floats, items: items, pending: pending,
        scaleBatch: threads > 1 ? LazyL2.workerBatch : 1)
      return body(kernel)
    }
  }

  private init(
    c: TrainingContext, scratch: UnsafeMutablePointer<Float>, items: UnsafeMutablePointer<Int32>,
    pending: UnsafeMutablePointer<PendingScales>, scaleBatch: Int
  ) {
    self.c = c
    self.pending = pending
    self.scaleBatch = scaleBatch
    userScratch = scratch
    positiveScratch = scratch + c.d
    negativeScratch = scratch + 2 * c.d
    gradientScratch = scratch + 3 * c.d
    topScores = scratch + 4 * c.d
    topItems = items
  }

  // MARK: - Epoch chunk

  /// Trains on `examples[range]` in order with this worker's generator, and adds the examples'
  /// losses to `loss` when the context measures them.
  ///
  /// An example's loss is the model's own, from the parameters as the example finds them (before
  /// its update), times its sample weight:
  ///
  /// ```
  /// logistic   w·(−y*·ln σ(s) − (1 − y*)·ln(1 − σ(s)))          y* = 1 for a positive, else 0
  /// BPR        −w·ln σ(s_ui − s_uj)                              j: the negative drawn
  /// WARP       L·max(0, 1 − s_ui + s_uj)                         L: the update's rank weight
  /// WARP-kOS   L·max(0, 1 − s_ui + s_uj)                         i: the k-th positive
  /// ```
  ///
  /// An example that makes no update adds 0 and still counts: a WARP or k-OS example without a
  /// violation in `maxSampled` draws (every sampled hinge is 0), a BPR example without a
  /// negative, a k-OS user without positives. L is exactly the factor of the pairwise update,
  /// min(10, w·ln(max(1, ⌊(N − 1)/n⌋))), 0 when n draws leave ⌊(N − 1)/n⌋ ≤ 1.
  /// - Complexity: O(range.count · (features per row) · d) for logistic and BPR; WARP adds up to
  ///   `maxSampled` negative scores per example, WARP-kOS `n` positive scores. The loss adds one
  ///   `log1p` per logistic or BPR example (from the `exp` the step computes anyway), three
  ///   float operations per WARP example and nothing per WARP draw.
  func train(
    _ examples: UnsafePointer<TrainingExample>, _ range: Range<Int>, rng: inout TrainingRNG,
    loss: inout EpochLoss
  ) {
    // `run` is written once and inlined twice with `measure` a constant: the compiled copy
    // without the loss has no trace of it.
    if c.measuresLoss {
      loss.sum += run(examples, range, rng: &rng, measure: true)
      loss.examples += range.count
    } else {
      _ = run(examples, range, rng: &rng, measure: false)
    }
    if c.lazyL2 { foldScales() }
  }

  /// The loop of `train`, returning the sum of the losses (0 without `measure`).
  @inline(__always)
  private func run(
    _ examples: UnsafePointer<TrainingExample>, _ range: Range<Int>, rng: inout TrainingRNG,
    measure: Bool
  ) -> Double {
    var sum: Double = 0
    switch c.loss {
    case .logistic:
      for e in range { sum += Double(logistic(examples[e], measure: measure)) }
    case .bpr:
      for e in range { sum += Double(bpr(examples[e], rng: &rng, measure: measure)) }
    case .warp:
      for e in range { sum += Double(warp(examples[e], rng: &rng)) }
    case .warpKOS:
      for e in range { sum += Double(warpKOS(user: Int(examples[e].user), rng: &rng)) }
    }
    return sum
  }

  // MARK: - Representations

  /// p = Σ_f x_f·S·E_f and b = Σ_f x_f·S·β_f over the stored features of `row`, with S the
  /// side's lazy L2 scale (`LazyL2`; exactly 1 when the side's α is 0).
  ///
  /// Without L2, a row holding a single feature of value 1 (identity features) is returned as
  /// a pointer into the embeddings, without a copy; otherwise the sum is built in `scratch`. An
  /// empty row gives the zero vector and bias 0.
  /// - Complexity: O((features in the row)·d).
  @inline(__always)
  private func representation(
    _ rows: SparseRows, _ side: ParameterSide, _ row: Int, _ scratch: UnsafeMutablePointer<Float>
  ) -> (vector: UnsafePointer<Float>, bias: Float) {
    let d = c.d
    let lo = rows.rowPointers.base[row]
    let hi = rows.rowPointers.base[row + 1]
    let scaled = side.alpha > 0
    if !scaled && hi - lo == 1 && rows.values.base[lo] == 1 {
      let f = Int(rows.columns.base[lo])
      return (UnsafePointer(side.embeddings.base + f * d), side.biases.base[f])
    }
    let scale = scaled ? side.scale.base.pointee : 1
    scratch.update(repeating: 0, count: d)
    var bias: Float = 0
    for n in lo..<hi {
      let f = Int(rows.columns.base[n])
      let x = scaled ? Float(Double(rows.values.base[n]) * scale) : rows.values.base[n]
      SIMDKernels.axpy(x, side.embeddings.base + f * d, scratch, d)
      bias += x * side.biases.base[f]
    }
    return (UnsafePointer(scratch), bias)
  }

  // MARK: - Updates

  /// Applies the representation gradient `coef·v` (and bias gradient `biasGradient`) to every
  /// feature of `row`, each scaled by its feature value, and returns the sum of the step sizes
  /// used (for `LazyL2`).
  @inline(__always)
  private func apply(
    _ rows: SparseRows, _ side: ParameterSide, _ row: Int,
    direction v: UnsafePointer<Float>, coef: Float, biasGradient: Float?
  ) -> Float {
    let d = c.d
    let lo = rows.rowPointers.base[row]
    let hi = rows.rowPointers.base[row + 1]
    var rates: Float = 0
    for n in lo..<hi {
      let f = Int(rows.columns.base[n])
      let x = rows.values.base[n]
      let at = f * d
      rates += c.optimiser.updateRow(
        side.embeddings.base + at, gradients: side.embeddingGradients.base + at,
        momentum: side.embeddingMomentum.base + at, direction: v, coef: coef * x,
        alpha: side.alpha, d: d)
      if let b = biasGradient {
        rates += c.optimiser.step(
          &side.biases.base[f], &side.biasGradients.base[f], &side.biasMomentum.base[f],
          gradient: b * x, alpha: side.alpha)
      }
    }
    return rates
  }

  /// The number of stored features of `row`.
  @inline(__always)
  private func width(_ rows: SparseRows, _ row: Int) -> Int {
    rows.rowPointers.base[row + 1] - rows.rowPointers.base[row]
  }

  /// Advances the lazy L2 scales after an example whose `updates` parameter updates used step
  /// sizes summing to `rates` (nothing without L2): at once on one thread, every
  /// `scaleBatch` examples on several (`LazyL2`).
  @inline(__always)
  private func regularise(rates: Float, updates: Int) {
    guard c.lazyL2 else { return }
    pending.pointee.user *= LazyL2.factor(alpha: c.users.alpha, rateSum: rates, updates: updates)
    pending.pointee.item *= LazyL2.factor(alpha: c.items.alpha, rateSum: rates, updates: updates)
    pending.pointee.examples += 1
    if pending.pointee.examples >= scaleBatch { foldScales() }
  }

  /// Folds this worker's pending factors into the shared scales.
  @inline(__always)
  private func foldScales() {
    guard pending.pointee.examples > 0 else { return }
    LazyL2.advance(
      users: c.users, items: c.items, userFactor: pending.pointee.user,
      itemFactor: pending.pointee.item, d: c.d, lock: c.lazyL2Lock,
      concurrent: scaleBatch > 1)
    pending.pointee = PendingScales()
  }

  /// The pairwise step for a positive i and a negative j with loss scale L (BPR, WARP, kOS):
  ///
  /// ```
  /// ∂/∂q_i = −L·p_u   ∂/∂q_j = +L·p_u   ∂/∂p_u = L·(q_j − q_i)   ∂/∂b_i = −L   ∂/∂b_j = +L
  /// ```
  ///
  /// The user bias cancels in s(u,i) − s(u,j) and is left alone (LightFM pushes it by +L).
  @inline(__always)
  private func pairwiseUpdate(
    user u: Int, positive i: Int, negative j: Int,
    p: UnsafePointer<Float>, qi: UnsafePointer<Float>, qj: UnsafePointer<Float>, loss L: Float
  ) {
    // Every gradient uses the representations from before the step: the user direction is
    // saved first, and p (possibly an alias of the user's row) changes only after the items.
    Vector.difference(qj, qi, into: gradientScratch, c.d)
    var rates = apply(c.itemRows, c.items, i, direction: p, coef: -L, biasGradient: -L)
    rates += apply(c.itemRows, c.items, j, direction: p, coef: L, biasGradient: L)
    rates += apply(c.userRows, c.users, u, direction: gradientScratch, coef: L, biasGradient: nil)
    let itemUpdates = (c.d + 1) * (width(c.itemRows, i) + width(c.itemRows, j))
    regularise(rates: rates, updates: itemUpdates + c.d * width(c.userRows, u))
  }

  // MARK: - Losses

  /// Logistic loss on one interaction: L = w·(σ(s) − y*), y* = 1 for a positive, else 0.
  ///
  /// ```
  /// ∂/∂q_i = L·p_u   ∂/∂p_u = L·q_i   ∂/∂b_u = ∂/∂b_i = L
  /// ```
  ///
  /// Returns the example's log loss before the step (`measure`), else 0.
  @inline(__always)
  private func logistic(_ e: TrainingExample, measure: Bool) -> Float {
    let u = Int(e.user)
    let i = Int(e.item)
    let (p, bu) = representation(c.userRows, c.users, u, userScratch)
    let (q, bi) = representation(c.itemRows, c.items, i, positiveScratch)
    let s = bu + bi + Vector.dot(p, q, c.d)
    let t = exp(-s)
    let L = e.weight * (1 / (1 + t) - e.label)
    let loss = measure ? e.weight * Self.logLoss(s, expMinus: t, positive: e.label > 0) : 0
    gradientScratch.update(from: q, count: c.d)
    var rates = apply(c.itemRows, c.items, i, direction: p, coef: L, biasGradient: L)
    rates += apply(c.userRows, c.users, u, direction: gradientScratch, coef: L, biasGradient: L)
    regularise(rates: rates, updates: (c.d + 1) * (width(c.itemRows, i) + width(c.userRows, u)))
    return loss
  }

  /// The log loss of score s from t = e^−s, which the step has already computed (one `log1p`
  /// per example, no second `exp`):
  ///
  /// ```
  /// −ln σ(s) = ln(1 + t)        −ln(1 − σ(s)) = s + ln(1 + t)
  /// ```
  ///
  /// Where t overflows (s < −88), the limits −s and 0 (the error is below e^s).
  @inline(__always)
  static func logLoss(_ s: Float, expMinus t: Float, positive: Bool) -> Float {
    guard t.isFinite else { return positive ? -s : 0 }
    let softplus = log1p(t)
    return positive ? softplus : s + softplus
  }

  /// BPR (Rendle et al. 2009): L = w·(1 − σ(s_ui − s_uj)) for a negative j drawn as the item
  /// of a uniformly random stored entry (popularity-proportional), redrawn while it is one of
  /// the user's items; after `bprDrawLimit` failed draws the example is skipped.
  ///
  /// Returns the example's loss −w·ln σ(s_ui − s_uj) before the step (`measure`), else 0.
  @inline(__always)
  private func bpr(_ e: TrainingExample, rng: inout TrainingRNG, measure: Bool) -> Float {
    let u = Int(e.user)
    var j: Int32 = -1
    for _ in 0..<Self.bprDrawLimit {
      let candidate = c.entryItems.base[rng.below(c.entryCount)]
      if !c.known.contains(row: u, column: candidate) {
        j = candidate
        break
      }
    }
    guard j >= 0 else { return 0 }
    let i = Int(e.item)
    let (p, _) = representation(c.userRows, c.users, u, userScratch)
    let (qi, bi) = representation(c.itemRows, c.items, i, positiveScratch)
    let (qj, bj) = representation(c.itemRows, c.items, Int(j), negativeScratch)
    let difference = bi - bj + Vector.dot(p, qi, c.d) - Vector.dot(p, qj, c.d)
    let t = exp(difference)
    let L = e.weight / (1 + t)
    pairwiseUpdate(user: u, positive: i, negative: Int(j), p: p, qi: qi, qj: qj, loss: L)
    // −ln σ(x) = ln(1 + eˣ) − x from the eˣ above; 0 where eˣ overflows (x > 88).
    return measure ? e.weight * (t.isFinite ? log1p(t) - difference : 0) : 0
  }

  /// WARP (Weston et al. 2011) for user u and positive i.
  ///
  /// Draws j uniformly in 0..<N until s_uj > s_ui − 1 for a j the user does not know, or
  /// `maxSampled` draws were made. n counts every draw, the user's own items included (they
  /// are skipped after being counted, as LightFM). On a violation at draw n:
  ///
  /// ```
  /// L = min(10, w·ln(max(1, ⌊(N − 1)/n⌋)))
  /// ```
  ///
  /// Returns the example's loss L·(1 − s_ui + s_uj) before the step, 0 without a violation
  /// (computed whether or not the epoch measures it: three float operations per example).
  @inline(__always)
  private func warp(_ e: TrainingExample, rng: inout TrainingRNG) -> Float {
    let u = Int(e.user)
    let i = Int(e.item)
    let (p, bu) = representation(c.userRows, c.users, u, userScratch)
    let (qi, bi) = representation(c.itemRows, c.items, i, positiveScratch)
    let positiveScore = bu + bi + Vector.dot(p, qi, c.d)
    guard let (j, qj, negativeScore, sampled) = sampleViolator(
      user: u, p: p, bu: bu, positiveScore: positiveScore, rng: &rng)
    else { return 0 }
    let rank = max(1, (c.itemCount - 1) / sampled)
    let L = min(Self.maxLoss, e.weight * log(Float(rank)))
    pairwiseUpdate(user: u, positive: i, negative: j, p: p, qi: qi, qj: qj, loss: L)
    return L * (1 - positiveScore + negativeScore)
  }

  /// WARP's negative search: the first j the user does not know with s_uj > s_ui − 1, its
  /// representation and score, and the number of draws made (known items count), or nil when
  /// none is found within `maxSampled` draws.
  @inline(__always)
  private func sampleViolator(
    user u: Int, p: UnsafePointer<Float>, bu: Float, positiveScore: Float,
    rng: inout TrainingRNG
  ) -> (Int, UnsafePointer<Float>, Float, Int)? {
    var sampled = 0
    while sampled < c.maxSampled {
      sampled += 1
      let j = rng.below(c.itemCount)
      if c.known.contains(row: u, column: Int32(truncatingIfNeeded: j)) { continue }
      let (qj, bj) = representation(c.itemRows, c.items, j, negativeScratch)
      let score = bu + bj + Vector.dot(p, qj, c.d)
      if score > positiveScore - 1 { return (j, qj, score, sampled) }
    }
    return nil
  }

  /// k-OS WARP (Weston et al. 2013): draw min(n, |P_u|) of the user's positives with
  /// replacement, take the k-th highest scored as the positive, then the WARP step with the
  /// same rank estimate as WARP (and LightFM's k-OS):
  ///
  /// ```
  /// L = min(10, ln(max(1, ⌊(N − 1)/n⌋)))
  /// ```
  ///
  /// P_u holds the entries with value > 0 (LightFM samples every stored entry, negatives
  /// included), and the `max(1, ·)` avoids LightFM's ln 0 = −∞ on tiny catalogues.
  ///
  /// Returns the example's loss L·(1 − s_ui + s_uj) before the step, as `warp`.
  @inline(__always)
  private func warpKOS(user u: Int, rng: inout TrainingRNG) -> Float {
    let lo = c.positives.rowPointers.base[u]
    let count = c.positives.rowPointers.base[u + 1] - lo
    guard count > 0 else { return 0 }
    let (p, bu) = representation(c.userRows, c.users, u, userScratch)
    let draws = min(c.n, count)
    let kth = min(c.k, draws)
    // Keep the kth highest scores seen so far, sorted descending.
    var kept = 0
    for _ in 0..<draws {
      let item = c.positives.columns.base[lo + rng.below(count)]
      let (q, b) = representation(c.itemRows, c.items, Int(item), positiveScratch)
      let score = bu + b + Vector.dot(p, q, c.d)
      if kept == kth && score <= topScores[kth - 1] { continue }
      var slot = kept < kth ? kept : kth - 1
      if kept < kth { kept += 1 }
      while slot > 0 && topScores[slot - 1] < score {
        topScores[slot] = topScores[slot - 1]
        topItems[slot] = topItems[slot - 1]
        slot -= 1
      }
      topScores[slot] = score
      topItems[slot] = item
    }
    let i = Int(topItems[kth - 1])
    let positiveScore = topScores[kth - 1]
    let (qi, _) = representation(c.itemRows, c.items, i, positiveScratch)
    guard let (j, qj, negativeScore, sampled) = sampleViolator(
      user: u, p: p, bu: bu, positiveScore: positiveScore, rng: &rng)
    else { return 0 }
    let rank = max(1, (c.itemCount - 1) / sampled)
    let L = min(Self.maxLoss, log(Float(rank)))
    pairwiseUpdate(user: u, positive: i, negative: j, p: p, qi: qi, qj: qj, loss: L)
    return L * (1 - positiveScore + negativeScore)
  }
}

/// A worker's lazy L2 factors for the user and item scales, over `examples` examples.
struct PendingScales {
  var user: Double = 1
  var item: Double = 1
  var examples = 0
}

// MARK: - Small vector kernels

/// Eight-lane SIMD kernels on contiguous `Float` rows for the training loop (d is small and
/// rarely a multiple of 16, so eight lanes and a scalar tail fit better than sixteen).
enum Vector {
  /// Σ x[c]·y[c]: eight lanes, then a four-lane step and a scalar tail.
  ///
  /// The lanes are reduced by halves (8 → 4 → 2 → 1: three adds), not one lane after another
  /// as `SIMD8.sum()` does (seven dependent adds): about 1.8× faster per call at d = 32. The
  /// summation order is fixed, so one thread with a seed still reproduces bit for bit.
  @inline(__always)
  static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>()
    var c = 0
    while c + 8 <= n {
      acc += load(x + c) * load(y + c)
      c += 8
    }
    var half = acc.lowHalf + acc.highHalf
    if c + 4 <= n {
      half += load4(x + c) * load4(y + c)
      c += 4
    }
    let pair = half.lowHalf + half.highHalf
    var total = pair[0] + pair[1]
    while c < n {
      total += x[c] * y[c]
      c += 1
    }
    return total
  }

  /// out[c] = x[c] − y[c].
  @inline(__always)
  static func difference(
    _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
    _ n: Int
  ) {
    var c = 0
    while c + 8 <= n {
      store(load(x + c) - load(y + c), out + c)
      c += 8
    }
    while c < n {
      out[c] = x[c] - y[c]
      c += 1
    }
  }

  @inline(__always)
  static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
  }

  @inline(__always)
  static func load(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
  }

  @inline(__always)
  static func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
  }

  @inline(__always)
  static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
  }
}
