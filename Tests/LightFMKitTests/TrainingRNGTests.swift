import XCTest

@testable import LightFMKit

/// The training generator and the seeded epoch shuffle built on it.
final class TrainingRNGTests: XCTestCase {
  func testRNGIsDeterministicAndBelowStaysInRange() {
    var a = TrainingRNG(seed: 7)
    var b = TrainingRNG(seed: 7)
    var c = TrainingRNG(seed: 8)
    let xs = (0..<100).map { _ in a.next() }
    XCTAssertEqual(xs, (0..<100).map { _ in b.next() })
    XCTAssertNotEqual(xs, (0..<100).map { _ in c.next() })
    var counts = [Int](repeating: 0, count: 7)
    for _ in 0..<70_000 { counts[a.below(7)] += 1 }
    for n in counts { XCTAssertEqual(Double(n), 10_000, accuracy: 500) }
  }

  /// The bucketed epoch shuffle is a permutation, depends on the seed and not on the threads,
  /// and spreads every example over the whole order.
  func testEpochShuffleIsASeededPermutation() {
    let n = 100_000
    let source = OwnedBuffer(copying: (0..<n).map { Int32($0) })
    let target = OwnedBuffer(repeating: Int32(-1), count: n)
    let shuffle = EpochShuffle<Int32>(count: n)
    XCTAssertGreaterThan(shuffle.buckets, 1)
    var a = TrainingRNG(seed: 3)
    var b = TrainingRNG(seed: 3)
    shuffle.shuffle(source.shared, into: target.shared, rng: &a, threads: 1)
    let one = target.array
    shuffle.shuffle(source.shared, into: target.shared, rng: &b, threads: 2)
    XCTAssertEqual(target.array, one, "same seed, other thread count, same order")
    XCTAssertEqual(one.sorted(), (0..<n).map { Int32($0) }, "a permutation")
    XCTAssertNotEqual(Array(one.prefix(100)), (0..<100).map { Int32($0) })
    var positionSum = 0.0
    let rounds = 100
    for _ in 0..<rounds {
      shuffle.shuffle(source.shared, into: target.shared, rng: &a, threads: 1)
      positionSum += Double(target.array.firstIndex(of: 0)!)
    }
    // Mean position of the first example: n/2 ± a few standard errors (n/√12/√rounds ≈ 2,900).
    XCTAssertEqual(positionSum / Double(rounds), Double(n) / 2, accuracy: 10_000)
  }

  /// With partitions, the shuffle writes partition 0, then 1, …, each a permutation of its own
  /// elements; one partition shuffles exactly as the plain shuffle.
  func testPartitionedEpochShuffleKeepsEachPartitionTogether() {
    let n = 50_000
    let source = OwnedBuffer(copying: (0..<n).map { Int32($0) })
    let target = OwnedBuffer(repeating: Int32(-1), count: n)
    let part = { (x: Int) in x % 3 == 0 ? 2 : (x < n / 2 ? 0 : 1) }
    let of = OwnedBuffer(copying: (0..<n).map { UInt8(part($0)) })
    let shuffle = EpochShuffle<Int32>(count: n, partitions: 3, partitionOf: of)
    var rng = TrainingRNG(seed: 5)
    shuffle.shuffle(source.shared, into: target.shared, rng: &rng, threads: 2)
    let out = target.array
    XCTAssertEqual(out.sorted(), (0..<n).map { Int32($0) }, "a permutation")
    for p in 0..<3 {
      let slice = out[shuffle.partitionStart(p)..<(p == 2 ? n : shuffle.partitionStart(p + 1))]
      XCTAssertEqual(
        slice.sorted(), (0..<n).filter { part($0) == p }.map { Int32($0) }, "partition \(p)")
      XCTAssertFalse(slice.elementsEqual(slice.sorted()), "partition \(p) is shuffled")
    }

    let one = EpochShuffle<Int32>(
      count: n, partitions: 1, partitionOf: OwnedBuffer(repeating: 0, count: n))
    let plain = EpochShuffle<Int32>(count: n)
    var a = TrainingRNG(seed: 9)
    var b = TrainingRNG(seed: 9)
    one.shuffle(source.shared, into: target.shared, rng: &a, threads: 1)
    let first = target.array
    plain.shuffle(source.shared, into: target.shared, rng: &b, threads: 1)
    XCTAssertEqual(target.array, first)
  }
}
