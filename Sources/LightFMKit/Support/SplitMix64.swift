/// SplitMix64 (Steele, Lea & Flood 2014): a small, fast, seedable generator.
///
/// The one copy for the whole package: it seeds the training generator, draws the
/// cross-validation splits, the demo catalogue and the synthetic test data. Every stream is part
/// of a fixed-seed expectation somewhere, so `next()` must never change.
package struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64

  package init(seed: UInt64) { state = seed }

  @inline(__always)
  package mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform double in [0, 1): the top 53 bits of `next()` times 2⁻⁵³.
  package mutating func nextUnit() -> Double {
    Double(next() >> 11) * 0x1p-53
  }
}
