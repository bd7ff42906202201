import XCTest

@testable import LightFMKit

/// The fit call's parallel fixed costs, copies and the non-finite scan, on spans of any size.
final class ParallelSpansTests: XCTestCase {
  /// Sizes around the eight-lane blocks, the 1,024-value blocks and the two-span threshold.
  let counts = [0, 1, 7, 8, 9, 1023, 1024, 1025, 3 * ParallelSpans.minimumSpan + 5]

  func testFirstNonFiniteFindsTheFirstNaNOrInfinityAnywhere() {
    for count in counts where count > 0 {
      for threads in [1, 2, 3] {
        var values = (0..<count).map { Float($0 % 7) - 3 }
        values[count / 2] = -0.0
        XCTAssertNil(first(values, threads), "count \(count), threads \(threads): all finite")
        for bad in [Float.nan, .infinity, -.infinity] {
          for at in Set([0, count / 3, count / 2 + 1, count - 1].filter { $0 < count }) {
            var v = values
            v[at] = bad
            if at + 1 < count { v[count - 1] = .nan }  // a later one must not win
            XCTAssertEqual(first(v, threads), at, "count \(count), threads \(threads), \(bad)")
          }
        }
      }
    }
    var extremes: [Float] = [.greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                             .leastNonzeroMagnitude, 0, -0.0, .leastNormalMagnitude]
    extremes += extremes
    XCTAssertNil(first(extremes, 1), "largest, subnormal and signed zero values are finite")
  }

  func testInitializeCopiesEverySpan() {
    for count in counts {
      for threads in [1, 2] {
        let source = (0..<count).map { Float($0) }
        let copy = [Float](unsafeUninitializedCapacity: count) { target, initialized in
          source.withUnsafeBufferPointer {
            if let s = $0.baseAddress, let t = target.baseAddress {
              ParallelSpans.initialize(t, from: s, count: count, threads: threads)
            }
          }
          initialized = count
        }
        XCTAssertEqual(copy, source, "count \(count), threads \(threads)")
      }
    }
  }

  private func first(_ values: [Float], _ threads: Int) -> Int? {
    values.withUnsafeBufferPointer {
      ParallelSpans.firstNonFinite($0.baseAddress!, count: $0.count, threads: threads)
    }
  }
}
