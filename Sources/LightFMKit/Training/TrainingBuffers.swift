// MARK: - Owned buffers

/// A heap buffer the trainer owns for the length of one `fit` call.
///
/// Training reads and writes through raw pointers from several threads; copying the arrays into
/// buffers it owns keeps every pointer valid for the whole call without nesting a closure per
/// array, and leaves the model untouched until the call succeeds. Workers never see the buffer
/// itself, only its `shared` pointer.
final class OwnedBuffer<Element> {
  let base: UnsafeMutablePointer<Element>
  let count: Int

  /// A copy of `array`, made by `threads` threads for large arrays (`ParallelSpans`).
  init(copying array: [Element], threads: Int = 1) {
    count = array.count
    base = UnsafeMutablePointer<Element>.allocate(capacity: max(count, 1))
    array.withUnsafeBufferPointer { source in
      if let s = source.baseAddress {
        ParallelSpans.initialize(base, from: s, count: count, threads: threads)
      }
    }
  }

  init(repeating value: Element, count: Int) {
    self.count = count
    base = UnsafeMutablePointer<Element>.allocate(capacity: max(count, 1))
    base.initialize(repeating: value, count: count)
  }

  /// `count` elements left unwritten, for a buffer filled before it is read (trivial elements
  /// only, so that releasing it needs no initialised values).
  init(unfilled count: Int) where Element: BitwiseCopyable {
    self.count = count
    base = UnsafeMutablePointer<Element>.allocate(capacity: max(count, 1))
  }

  deinit {
    base.deinitialize(count: count)
    base.deallocate()
  }

  var shared: SharedMutablePointer<Element> { SharedMutablePointer(base) }

  var array: [Element] { Array(UnsafeBufferPointer(start: base, count: count)) }
}

// MARK: - Parameters

/// One side (users or items) of the model's parameters and optimiser state, as buffers.
final class ParameterSideBuffers {
  /// One buffer per `SideArray`, in its order.
  private let buffers: [OwnedBuffer<Float>]
  /// The side's lazy L2 scale (`LazyL2`), 1 between epochs.
  let scale = OwnedBuffer<Double>(repeating: 1, count: 1)

  init(_ p: SideParameters, threads: Int = 1) {
    buffers = SideArray.allCases.map { OwnedBuffer(copying: p[$0], threads: threads) }
  }

  subscript(array: SideArray) -> OwnedBuffer<Float> { buffers[array.rawValue] }

  /// The raw view the per-example kernels use.
  func view(alpha: Float) -> ParameterSide {
    ParameterSide(
      embeddings: self[.embeddings].shared, biases: self[.biases].shared,
      embeddingGradients: self[.embeddingGradients].shared,
      embeddingMomentum: self[.embeddingMomentum].shared,
      biasGradients: self[.biasGradients].shared, biasMomentum: self[.biasMomentum].shared,
      alpha: alpha, scale: scale.shared, featureCount: self[.biases].count)
  }

  /// The first non-finite learned value, if any, as (array name, index).
  ///
  /// - Complexity: O(features·d / threads) (`ParallelSpans.firstNonFinite`).
  func firstNonFinite(side: Side, threads: Int = 1) -> (String, Int)? {
    for array in [SideArray.embeddings, .biases] {
      let buffer = self[array]
      if let n = ParallelSpans.firstNonFinite(buffer.base, count: buffer.count, threads: threads) {
        return ("\(side) \(array.exportName)", n)
      }
    }
    return nil
  }
}

/// The model's parameters copied into buffers for one `fit` call.
final class TrainingParameters {
  let noComponents: Int
  let users: ParameterSideBuffers
  let items: ParameterSideBuffers

  /// Copies `p` into buffers, large arrays split over `threads` threads.
  init(_ p: ModelParameters, threads: Int = 1) {
    noComponents = p.noComponents
    users = ParameterSideBuffers(p.users, threads: threads)
    items = ParameterSideBuffers(p.items, threads: threads)
  }

  /// Writes the trained values back into `p` in new arrays, large ones copied by `threads`
  /// threads.
  ///
  /// New arrays, not the old ones overwritten: the call's buffers are freed right after, and
  /// allocating while they are still held lets the allocator hand their pages to the next call
  /// (overwriting in place and freeing ~58 MB of buffers at once on the synthetic set made the
  /// allocator return them to the system, and the next call paid ~20 ms of page faults).
  func store(into p: inout ModelParameters, threads: Int = 1) {
    for (side, buffers) in [(Side.user, users), (.item, items)] {
      for array in SideArray.allCases {
        let b = buffers[array]
        p[side][array] = [Float](unsafeUninitializedCapacity: b.count) { target, initialized in
          if let base = target.baseAddress {
            ParallelSpans.initialize(base, from: b.base, count: b.count, threads: threads)
          }
          initialized = b.count
        }
      }
    }
  }
}

// MARK: - Sparse rows

/// A CSR matrix copied into buffers: the feature rows, or a user's stored items.
final class CSRBuffers {
  let rows: Int
  let rowPointers: OwnedBuffer<Int>
  let columns: OwnedBuffer<Int32>
  let values: OwnedBuffer<Float>

  init(_ m: CSRMatrix) {
    rows = m.shape.rows
    rowPointers = OwnedBuffer(copying: m.rowPointers)
    columns = OwnedBuffer(copying: m.columnIndices)
    values = OwnedBuffer(copying: m.values)
  }

  var view: SparseRows {
    SparseRows(
      rowPointers: rowPointers.shared, columns: columns.shared, values: values.shared, rows: rows)
  }
}

/// The raw, thread-shareable view of a CSR matrix the kernels read.
struct SparseRows: Sendable {
  let rowPointers: SharedMutablePointer<Int>
  let columns: SharedMutablePointer<Int32>
  let values: SharedMutablePointer<Float>
  let rows: Int

  /// Whether row `r` stores column `c`: binary search in the sorted row.
  ///
  /// - Complexity: O(log(row length)).
  @inline(__always)
  func contains(row r: Int, column c: Int32) -> Bool {
    var lo = rowPointers.base[r]
    var hi = rowPointers.base[r + 1]
    while lo < hi {
      let mid = (lo + hi) >> 1
      let v = columns.base[mid]
      if v == c { return true }
      if v < c { lo = mid + 1 } else { hi = mid }
    }
    return false
  }
}

/// The raw view of one side's parameters and optimiser state.
struct ParameterSide: Sendable {
  let embeddings: SharedMutablePointer<Float>
  let biases: SharedMutablePointer<Float>
  let embeddingGradients: SharedMutablePointer<Float>
  let embeddingMomentum: SharedMutablePointer<Float>
  let biasGradients: SharedMutablePointer<Float>
  let biasMomentum: SharedMutablePointer<Float>
  /// The L2 penalty of this side (`userAlpha` or `itemAlpha`).
  let alpha: Float
  /// The side's lazy L2 scale (`LazyL2`), shared by every worker.
  let scale: SharedMutablePointer<Double>
  /// Rows of `embeddings` (and entries of `biases`).
  let featureCount: Int
}
