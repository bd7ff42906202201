import Foundation

/// The epoch driver: packs the examples, shuffles them every epoch and runs the Hogwild
/// workers over the shuffled order.
///
/// With T > 1 threads the users are cut into T contiguous ranges holding about as many
/// examples each, and worker t trains the examples of range t, in the epoch's random order,
/// before it helps the others finish theirs. Two workers then rarely write the same user's
/// row, bias or optimiser state, nor the cache lines around them. When the workers split one
/// shuffled order instead (as LightFM's do), those lines move between the cores on nearly
/// every example: on MovieLens 100K with 2 threads each example costs 40–100% more than on
/// one, against about 10% with the ranges (up to 90% on a host whose cross-core transfers are
/// slow, since the item rows stay shared). Each range is still visited in a uniformly random
/// order (`EpochShuffle` partitions), so every example is trained once per epoch, as with one
/// thread (ARCHITECTURE.md §2).
///
/// One `Trainer` lives for one `fit`/`fitPartial` call. It copies the model's parameters and the
/// feature matrices into buffers it owns (`TrainingBuffers.swift`), trains those, and hands the
/// parameters back only when every epoch finished with finite values.
final class Trainer {
  let parameters: TrainingParameters
  private let userRows: CSRBuffers
  private let itemRows: CSRBuffers
  private let known: CSRBuffers
  private let positives: CSRBuffers
  private let entryItems: OwnedBuffer<Int32>
  /// The examples in stored order (the first `exampleCount` slots), and the buffer each epoch
  /// shuffles a fresh copy of.
  private let storedOrder: OwnedBuffer<TrainingExample>
  private let exampleCount: Int
  private let examples: OwnedBuffer<TrainingExample>
  private let shuffler: EpochShuffle<TrainingExample>
  private let context: TrainingContext
  /// The examples a worker takes from a user range at a time (more than one thread).
  private let block: Int

  /// Prepares a call. Inputs are already validated by `LightFM.fitPartial`.
  ///
  /// - Parameters:
  ///   - interactions: users × items, in stored order.
  ///   - weights: one weight per stored entry, or nil for all 1.
  ///   - threads: the call's worker threads, which also copy the parameters in.
  ///   - measuresLoss: whether `epoch` returns the epoch's mean loss (`TrainingKernel.train`).
  ///   - interactionRows: `interactions` in CSR form, duplicates summed, when the caller has
  ///     converted them already (validation does); otherwise converted here if needed.
  /// - Complexity: O(nnz + feature nnz + parameters).
  init(
    model: LightFM, parameters p: ModelParameters, interactions: COOMatrix, weights: [Float]?,
    userFeatures: CSRMatrix, itemFeatures: CSRMatrix, threads: Int, measuresLoss: Bool = false,
    interactionRows: CSRMatrix? = nil
  ) {
    parameters = TrainingParameters(p, threads: threads)
    userRows = CSRBuffers(userFeatures)
    itemRows = CSRBuffers(itemFeatures)

    // Only the pairwise losses look up a user's items, and only k-OS samples its positives;
    // the others get empty rows instead of an O(nnz log) conversion per call.
    let empty = CSRMatrix(emptyRows: interactions.shape.rows, columns: interactions.shape.columns)
    let knownMatrix = model.loss == .logistic
      ? empty : interactionRows ?? CSRMatrix.converting(interactions, sumDuplicates: true)
    known = CSRBuffers(knownMatrix)
    positives = CSRBuffers(model.loss == .warpKOS ? Self.positiveRows(knownMatrix) : empty)
    entryItems = OwnedBuffer(copying: interactions.columnIndices)

    let pairwise = model.loss != .logistic
    // Packed straight into the buffer, then the epoch buffer is filled by each shuffle.
    let packed = OwnedBuffer<TrainingExample>(unfilled: interactions.nnz)
    var kept = 0
    // Examples per user, for the user ranges of several threads.
    let perUser = OwnedBuffer<Int>(repeating: 0, count: threads > 1 ? interactions.shape.rows : 0)
    interactions.rowIndices.withUnsafeBufferPointer { rows in
      interactions.columnIndices.withUnsafeBufferPointer { columns in
        interactions.values.withUnsafeBufferPointer { values in
          for n in 0..<values.count {
            let value = values[n]
            let weight = weights?[n] ?? 1
            // A weight of 0 changes nothing, not even an optimiser accumulator (WARP-kOS has
            // none).
            if weight == 0 && model.loss != .warpKOS { continue }
            // BPR and WARP learn from positives only; WARP-kOS visits every entry's user.
            if pairwise && model.loss != .warpKOS && !(value > 0) { continue }
            packed.base[kept] = TrainingExample(
              user: rows[n], item: columns[n], weight: weight, label: value > 0 ? 1 : 0)
            kept += 1
            if threads > 1 { perUser.base[Int(rows[n])] += 1 }
          }
        }
      }
    }
    storedOrder = packed
    exampleCount = kept
    examples = OwnedBuffer(unfilled: kept)
    let ranges = min(threads, kept / 1024, Int(UInt8.max))
    if ranges > 1 {
      let of = Self.userRanges(packed, count: kept, perUser: perUser, ranges)
      shuffler = EpochShuffle(count: kept, partitions: ranges, partitionOf: of)
    } else {
      shuffler = EpochShuffle(count: kept)
    }
    block = max(64, min(1024, kept / (32 * max(ranges, 1))))

    // k-OS keeps at most min(k, n, |P_u|) scores; no other loss keeps any.
    var topCapacity = 1
    if model.loss == .warpKOS {
      let pointers = positives.view.rowPointers.base
      var longest = 0
      for r in 0..<positives.view.rows { longest = max(longest, pointers[r + 1] - pointers[r]) }
      topCapacity = max(1, min(model.k, model.n, longest))
    }

    context = TrainingContext(
      d: p.noComponents, loss: model.loss,
      optimiser: Optimiser(
        schedule: model.learningSchedule, learningRate: model.learningRate, rho: model.rho,
        epsilon: model.epsilon),
      userRows: userRows.view, itemRows: itemRows.view,
      users: parameters.users.view(alpha: model.userAlpha),
      items: parameters.items.view(alpha: model.itemAlpha),
      known: known.view, positives: positives.view,
      entryItems: entryItems.shared, entryCount: interactions.nnz,
      itemCount: itemFeatures.shape.rows, maxSampled: model.maxSampled, k: model.k, n: model.n,
      topCapacity: topCapacity, lazyL2: model.userAlpha > 0 || model.itemAlpha > 0,
      lazyL2Lock: NSLock(), measuresLoss: measuresLoss)
  }

  /// The user range (0..<ranges) of every example: contiguous ranges of users with about
  /// `count / ranges` examples each (a user goes where the middle of its examples falls).
  ///
  /// - Complexity: O(count + users).
  private static func userRanges(
    _ examples: OwnedBuffer<TrainingExample>, count: Int, perUser: OwnedBuffer<Int>,
    _ ranges: Int
  ) -> OwnedBuffer<UInt8> {
    let rangeOfUser = OwnedBuffer<UInt8>(unfilled: perUser.count)
    var before = 0
    for u in 0..<perUser.count {
      let middle = before + perUser.base[u] / 2
      rangeOfUser.base[u] = UInt8(min(ranges - 1, middle * ranges / count))
      before += perUser.base[u]
    }
    let of = OwnedBuffer<UInt8>(unfilled: count)
    for e in 0..<count { of.base[e] = rangeOfUser.base[Int(examples.base[e].user)] }
    return of
  }

  /// The stored entries with value > 0, row by row.
  private static func positiveRows(_ m: CSRMatrix) -> CSRMatrix {
    if !m.values.contains(where: { !($0 > 0) }) { return m }
    var pointers = [0]
    var columns: [Int32] = []
    for r in 0..<m.shape.rows {
      for n in m.rowPointers[r]..<m.rowPointers[r + 1] where m.values[n] > 0 {
        columns.append(m.columnIndices[n])
      }
      pointers.append(columns.count)
    }
    return CSRMatrix(
      uncheckedShape: m.shape, rowPointers: pointers, columnIndices: columns,
      values: [Float](repeating: 1, count: columns.count))
  }

  /// One epoch: shuffle, then the workers train every example once.
  ///
  /// Every epoch permutes the stored order afresh (`EpochShuffle`), so the visiting order
  /// depends only on the generator's state: with one thread, `fit(epochs: 3)` equals
  /// `fit(epochs: 1)` followed by `fitPartial(epochs: 2)`, bit for bit. With more, the order is
  /// shuffled within the user ranges (see the type's comment) and each worker takes `block`
  /// examples at a time from its own range, then from the others' until all are done (one
  /// range, when the examples are too few to cut, is shared by every worker the same way).
  ///
  /// Each worker sums its examples' losses in its own `EpochLoss`; they are folded here once
  /// the workers are done.
  /// - Returns: the mean loss over the epoch's examples, or nil when the trainer does not
  ///   measure it or has no examples.
  /// - Complexity: O(examples · cost per example / threads).
  @discardableResult
  func epoch(rng: inout TrainingRNG, threads requested: Int) -> Double? {
    let count = exampleCount
    // More workers than examples would only run empty chunks (and allocate their scratch).
    let threads = min(requested, max(1, count))
    shuffler.shuffle(storedOrder.shared, into: examples.shared, rng: &rng, threads: threads)
    let seeds = (0..<threads).map { _ in rng.next() }
    let context = self.context
    let base = examples.shared
    let ranges = shuffler.partitions
    let starts = (0...ranges).map { $0 == ranges ? count : shuffler.partitionStart($0) }
    let taken = (0..<ranges).map { _ in Parallel.Counter() }
    let block = self.block
    let losses = OwnedBuffer<EpochLoss>(repeating: EpochLoss(), count: threads)
    let lossOf = losses.shared
    let work: @Sendable (Int) -> Void = { t in
      var local = TrainingRNG(seed: seeds[t])
      var loss = EpochLoss()
      defer { lossOf.base[t] = loss }
      TrainingKernel.withKernel(context, threads: threads) { kernel in
        for k in 0..<ranges {
          let r = (t + k) % ranges
          while true {
            let lo = starts[r] + taken[r].next() * block
            let hi = min(lo + block, starts[r + 1])
            if lo >= hi { break }
            kernel.train(UnsafePointer(base.base), lo..<hi, rng: &local, loss: &loss)
          }
        }
      }
    }
    Parallel.workers(threads, work)
    // LightFM's lazy L2 applies the epoch's accumulated shrinkage here (`LazyL2`).
    LazyL2.divideOut(context.users, d: context.d)
    LazyL2.divideOut(context.items, d: context.d)
    guard context.measuresLoss, count > 0 else { return nil }
    var total = EpochLoss()
    for t in 0..<threads {
      total.sum += losses.base[t].sum
      total.examples += losses.base[t].examples
    }
    return total.sum / Double(total.examples)
  }

  /// The first non-finite learned value, if any (searched by `threads` when an epoch's
  /// `ParameterExtent` is not finite).
  func firstNonFinite(threads: Int) -> (String, Int)? {
    parameters.users.firstNonFinite(side: .user, threads: threads)
      ?? parameters.items.firstNonFinite(side: .item, threads: threads)
  }
}
