/// Scalar kernels for the per-example training loop and the scalar scoring path.
///
/// They read contiguous `Float` rows through unsafe pointers with 16-wide SIMD, allocate nothing
/// and never bounds-check: callers own the lengths.
enum SIMDKernels {
  /// Σ x[i]·y[i] for `n` contiguous floats.
  ///
  /// - Complexity: O(n).
  @inline(__always)
  static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    var i = 0
    var acc0 = SIMD16<Float>()
    var acc1 = SIMD16<Float>()
    while i + 32 <= n {
      acc0 += load16(x + i) * load16(y + i)
      acc1 += load16(x + i + 16) * load16(y + i + 16)
      i += 32
    }
    if i + 16 <= n {
      acc0 += load16(x + i) * load16(y + i)
      i += 16
    }
    var acc8 = SIMD8<Float>()
    if i + 8 <= n {
      acc8 = load8(x + i) * load8(y + i)
      i += 8
    }
    var total = (acc0 + acc1).sum() + acc8.sum()
    while i < n {
      total += x[i] * y[i]
      i += 1
    }
    return total
  }

  /// y[i] += alpha·x[i] for `n` contiguous floats: sixteen lanes, then one eight-lane step (the
  /// small d of training rows is rarely a multiple of 16), then a scalar tail.
  @inline(__always)
  static func axpy(
    _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int
  ) {
    var i = 0
    let a = SIMD16<Float>(repeating: alpha)
    while i + 16 <= n {
      store16(load16(y + i) + a * load16(x + i), y + i)
      i += 16
    }
    if i + 8 <= n {
      let y8 = load8(y + i) + a.lowHalf * load8(x + i)
      UnsafeMutableRawPointer(y + i).storeBytes(of: y8, as: SIMD8<Float>.self)
      i += 8
    }
    while i < n {
      y[i] += alpha * x[i]
      i += 1
    }
  }

  @inline(__always)
  static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
  }

  @inline(__always)
  static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
  }

  @inline(__always)
  static func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
  }
}
