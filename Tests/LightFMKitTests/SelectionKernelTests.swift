import XCTest

@testable import LightFMKit

/// The C selection kernels: every width the CPU has (AVX-512, AVX2, portable) gives what a
/// plain loop gives, at every length around the vector widths and with NaN, ±∞ and ties.
final class SelectionKernelTests: XCTestCase {
  /// The widths to check on this CPU, widest first; the width in use is restored afterwards.
  private func eachWidth(_ body: (Int) throws -> Void) rethrows {
    let original = SelectionKernels.width
    defer { SelectionKernels.limitWidth(original) }
    var seen = Set<Int>()
    for w in [512, 256, 0] {
      SelectionKernels.limitWidth(w)
      if seen.insert(SelectionKernels.width).inserted { try body(SelectionKernels.width) }
    }
    XCTAssertTrue(seen.contains(0), "the portable version is always available")
  }

  /// Rows drawn from a few values, so ties and exact threshold hits are common.
  private func row(_ n: Int, rng: inout SplitMix64) -> [Float] {
    let values: [Float] = [-.infinity, -1, -0.5, 0, 0.25, 0.5, 1, .infinity, .nan]
    return (0..<n).map { _ in
      rng.next() % 5 == 0 ? values[Int(rng.next() % UInt64(values.count))]
        : Float(Int(rng.next() % 2001) - 1000) / 1000
    }
  }

  func testNextAboveMatchesALoop() {
    var rng = SplitMix64(seed: 5)
    eachWidth { width in
      for n in [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 200, 1024] {
        let r = row(n, rng: &rng)
        for t: Float in [-.infinity, -0.5, 0, 0.9, 0.999, .infinity, .nan] {
          for from in Set([0, 1, n / 3, max(0, n - 1), n]) where from <= n {
            let expected = (from..<n).first { r[$0] > t } ?? n
            let found = r.withUnsafeBufferPointer {
              SelectionKernels.nextAbove($0.baseAddress!, from: from, count: n, t)
            }
            XCTAssertEqual(found, expected, "width \(width), n \(n), from \(from), t \(t)")
          }
        }
      }
    }
  }

  func testCountAtLeastMatchesALoop() {
    var rng = SplitMix64(seed: 6)
    let thresholds: [Float] = [-.infinity, -1, -0.5, 0, 0.25, 0.5, 0.999, 1, .infinity]
    eachWidth { width in
      for n in [1, 7, 8, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 100, 1024] {
        let r = row(n, rng: &rng)
        var counts = [Int64](repeating: 3, count: thresholds.count)
        r.withUnsafeBufferPointer { rb in
          thresholds.withUnsafeBufferPointer { tb in
            SelectionKernels.countAtLeast(
              rb.baseAddress!, count: n, thresholds: tb.baseAddress!, tb.count,
              into: &counts)
          }
        }
        let expected = thresholds.map { t in Int64(3 + r.filter { $0 >= t }.count) }
        XCTAssertEqual(counts, expected, "width \(width), n \(n)")
      }
    }
  }

  func testSortedCountMatchesALoop() {
    var rng = SplitMix64(seed: 7)
    eachWidth { width in
      for p in [1, 2, 3, 5, 16, 17, 100, 257] {
        var thresholds = (0..<p).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 }
        thresholds[0] = rng.next() % 2 == 0 ? -.infinity : thresholds[0]
        thresholds.sort()
        for n in [1, 7, 8, 9, 15, 16, 17, 33, 1000] {
          let r = row(n, rng: &rng)
          var counts = [Int64](repeating: 2, count: p)
          var histogram = [Int64](repeating: 99, count: p + 1)
          r.withUnsafeBufferPointer { rb in
            thresholds.withUnsafeBufferPointer { tb in
              SelectionKernels.countAtLeastSorted(
                rb.baseAddress!, count: n, thresholds: tb.baseAddress!, p,
                histogram: &histogram, into: &counts)
            }
          }
          let expected = thresholds.map { t in Int64(2 + r.filter { $0 >= t }.count) }
          XCTAssertEqual(counts, expected, "width \(width), p \(p), n \(n)")
        }
      }
    }
  }
}
