/// The random number generator of training: xoshiro256** seeded through SplitMix64.
///
/// Blackman & Vigna 2018, "Scrambled linear pseudorandom number generators". It is small (32
/// bytes of state), fast, and fully determined by its seed, so that one thread plus a fixed seed
/// reproduces a fit bit for bit. The model owns one generator; it shuffles, initialises new
/// parameters and seeds one private generator per Hogwild worker and epoch.
struct TrainingRNG: RandomNumberGenerator, Sendable, Equatable {
  private var s0: UInt64
  private var s1: UInt64
  private var s2: UInt64
  private var s3: UInt64

  /// A generator whose whole state is derived from `seed` with SplitMix64 (Steele et al. 2014).
  init(seed: UInt64) {
    var seeder = SplitMix64(seed: seed)
    s0 = seeder.next()
    s1 = seeder.next()
    s2 = seeder.next()
    s3 = seeder.next()
  }

  /// The four state words, for model files (`ModelFile` saves them so that `fitPartial` after
  /// `load` continues the same random stream).
  var state: [UInt64] { [s0, s1, s2, s3] }

  /// A generator restored from `state`; `nil` unless it has four words, not all zero.
  init?(state: [UInt64]) {
    guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
    (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
  }

  @inline(__always)
  mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = s3 << 45 | s3 >> 19
    return result
  }

  /// A value in `0..<n` by the multiply-high method (Lemire 2019); the bias is at most n/2⁶⁴.
  ///
  /// - Precondition: `n > 0` (callers check; not re-checked in the hot loop).
  @inline(__always)
  mutating func below(_ n: Int) -> Int {
    Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(truncatingIfNeeded: n)).high)
  }

  /// Shuffles `buffer` in place (Fisher–Yates).
  ///
  /// - Complexity: O(count).
  mutating func shuffle<T>(_ buffer: UnsafeMutableBufferPointer<T>) {
    var i = buffer.count
    while i > 1 {
      let j = below(i)
      i -= 1
      buffer.swapAt(i, j)
    }
  }
}

extension RandomNumberGenerator {
  /// A float uniform in [0, 1): the top 24 bits of `next()` times 2⁻²⁴.
  ///
  /// Every value is exact (24 bits fit a `Float` significand), so it is the same on every
  /// platform and toolchain, unlike `Float.random(in:using:)`, whose conversion the standard
  /// library does not promise to keep.
  @inline(__always)
  mutating func unitFloat() -> Float {
    Float(next() >> 40) * 0x1p-24
  }
}
