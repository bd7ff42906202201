import Foundation
import XCTest

@_spi(Benchmarks) @testable import LightFMKit

/// Concurrent library callers and concurrent training workers: results as if sequential, and
/// OpenBLAS's process-wide thread count as it was found.
final class ConcurrentCallerTests: XCTestCase {
  /// Many concurrent `recommend`, `predictRank` and `fitPartial` (on copies) calls from Swift
  /// tasks give the sequential results and leave the OpenBLAS thread count unchanged.
  func testConcurrentCallersMatchSequentialAndRestoreBLASThreads() async throws {
    let (users, items) = (300, 500)
    let model = ScoringFixtures.model(users: users, items: items, d: 8, quantized: false, seed: 4)
    var rng = ScoringFixtures.Rng(state: 11)
    let rows = ScoringFixtures.randomRows(users: users, items: items, density: 0.02, rng: &rng)
    let known = try ScoringFixtures.csr(rows, columns: items)
    let test = try ScoringFixtures.csr(
      ScoringFixtures.randomRows(users: users, items: items, density: 0.01, rng: &rng)
        .enumerated().map { u, row in row.filter { !rows[u].contains($0) } },
      columns: items)
    let trainCOO = COOMatrix(known)
    var trainee = LightFM(noComponents: 8, loss: .warp, randomState: 3)
    try trainee.fit(trainCOO, epochs: 1)
    let seed = trainee

    func recommend() throws -> [[ScoredIndex]] {
      try model.recommend(count: 7, excluding: known, numThreads: 2).map { Array($0) }
    }
    func rank() throws -> [Float] {
      try model.predictRank(test, trainInteractions: known, numThreads: 2).values
    }
    func train() throws -> [Float] {
      var copy = seed
      try copy.fitPartial(trainCOO, epochs: 1, numThreads: 1)
      return copy.parameters!.users.embeddings
    }
    let (expectedTop, expectedRanks, expectedFit) = (try recommend(), try rank(), try train())
    let before = KernelProbes.blasThreads

    for _ in 0..<20 {
      try await withThrowingTaskGroup(of: Void.self) { group in
        for task in 0..<6 {
          group.addTask {
            switch task % 3 {
            case 0: XCTAssertEqual(try recommend(), expectedTop)
            case 1: XCTAssertEqual(try rank(), expectedRanks)
            default: XCTAssertEqual(try train(), expectedFit)
            }
          }
        }
        try await group.waitForAll()
      }
      XCTAssertEqual(KernelProbes.blasThreads, before, "OpenBLAS thread count after the calls")
    }
  }

  /// Pins taken by overlapping callers: the first one in sets the count, the last one out
  /// restores it, whatever the order they leave in.
  func testOverlappingPinsRestoreTheCountOnce() {
    let before = BLAS.threads
    let inner = DispatchSemaphore(value: 0)
    let outerDone = DispatchSemaphore(value: 0)
    let pinned = Atomics()
    DispatchQueue.global().async {
      BLAS.withThreads(1) {
        inner.signal()
        outerDone.wait()
        pinned.record(BLAS.threads)
      }
      inner.signal()
    }
    inner.wait()
    BLAS.withThreads(1) { pinned.record(BLAS.threads) }
    // The other caller still holds its pin: the count must still be 1.
    pinned.record(BLAS.threads)
    outerDone.signal()
    inner.wait()
    XCTAssertEqual(pinned.values, [1, 1, 1])
    XCTAssertEqual(BLAS.threads, before)
  }

  /// Lazy L2 scales advanced by several workers at once (as Hogwild training does every
  /// `workerBatch` examples), with mid-run divisions: the side ends divided by the product of
  /// every factor exactly once, as on one thread.
  func testLazyL2AdvanceIsRaceFreeAcrossWorkers() {
    let (workers, steps) = (4, 500_000)
    let factor = 1.00005  // 2,000,000 steps: e^100 ≈ 2.7e43, seven divisions at 1e6
    let start: Float = 1e30
    let (user, item) = (side(start), side(start))
    let lock = NSLock()
    let (users, items) = (user.view(alpha: 1), item.view(alpha: 1))
    DispatchQueue.concurrentPerform(iterations: workers) { _ in
      for _ in 0..<steps {
        LazyL2.advance(
          users: users, items: items, userFactor: factor, itemFactor: 1, d: 1, lock: lock,
          concurrent: true)
      }
    }
    LazyL2.divideOut(users, d: 1)
    let expected = Double(start) / pow(factor, Double(workers * steps))
    let got = Double(users.embeddings.base.pointee)
    XCTAssertEqual(got / expected, 1, accuracy: 1e-5, "got \(got), expected \(expected)")
    XCTAssertEqual(items.embeddings.base.pointee, start)
    withExtendedLifetime((user, item)) {}
  }

  /// A worker that folds its factors into the scales while another worker divides the sides
  /// out (holding the lock) waits for the division: a product that landed during it would be
  /// divided out a second time later.
  func testLazyL2AdvanceWaitsForADivisionInProgress() {
    let (user, item) = (side(1), side(1))
    let lock = NSLock()
    let (users, items) = (user.view(alpha: 1), item.view(alpha: 1))
    let done = DispatchSemaphore(value: 0)
    lock.lock()  // as `divideOut` under the lock, mid-epoch
    DispatchQueue.global().async {
      LazyL2.advance(
        users: users, items: items, userFactor: 2, itemFactor: 3, d: 1, lock: lock,
        concurrent: true)
      done.signal()
    }
    let early = done.wait(timeout: .now() + 0.3)
    XCTAssertEqual(early, .timedOut, "advanced during a division")
    XCTAssertEqual(users.scale.base.pointee, 1)
    lock.unlock()
    if early == .timedOut { done.wait() }
    XCTAssertEqual(users.scale.base.pointee, 2)
    XCTAssertEqual(items.scale.base.pointee, 3)
    withExtendedLifetime((user, item)) {}
  }
}

/// Values recorded from several threads.
private final class Atomics: @unchecked Sendable {
  private let lock = NSLock()
  private var recorded: [Int] = []
  func record(_ v: Int) { lock.withLock { recorded.append(v) } }
  var values: [Int] { lock.withLock { recorded } }
}

/// One parameter side of one feature and one component, for the lazy L2 tests.
private func side(_ value: Float) -> ParameterSideBuffers {
  ParameterSideBuffers(
    SideParameters(
      featureCount: 1, embeddings: [value], biases: [value], embeddingGradients: [1],
      embeddingMomentum: [0], biasGradients: [1], biasMomentum: [0]))
}
