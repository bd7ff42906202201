import XCTest
import _LightFMTestSupport

@testable import LightFMKit

/// The caller's control over long work: the progress callback stops training, and a cancelled
/// task stops `fit` and `recommend` with the model left as it was.
final class TrainingControlTests: XCTestCase {
  let data = Synthetic.generate(
    Synthetic.Configuration(users: 300, items: 200, interactions: 6_000))

  func model() -> LightFM { LightFM(noComponents: 8, loss: .warp, randomState: 7) }

  func testCallbackStopKeepsTheEpochsTrainedSoFar() throws {
    var stopped = model()
    var seen: [Int] = []
    try stopped.fit(data.train, epochs: 10) { progress in
      seen.append(progress.epoch)
      return progress.epoch == 2 ? .stop : .continue
    }
    XCTAssertEqual(seen, [1, 2])
    var two = model()
    try two.fit(data.train, epochs: 2)
    XCTAssertTrue(stopped.parameters == two.parameters, "stopping after 2 epochs is 2 epochs")
  }

  /// Cancelled mid-way (from the callback after epoch 2), `fit` throws `CancellationError` and
  /// leaves an unfitted model unfitted.
  func testCancelledFitLeavesAFreshModelUnfitted() async throws {
    let x = data.train
    let task = Task { () -> (Error?, LightFM, [Int]) in
      var m = LightFM(noComponents: 8, loss: .warp, randomState: 7)
      var seen: [Int] = []
      do {
        try m.fit(x, epochs: 10) { progress in
          seen.append(progress.epoch)
          if progress.epoch == 2 { withUnsafeCurrentTask { $0?.cancel() } }
          return .continue
        }
        return (nil, m, seen)
      } catch {
        return (error, m, seen)
      }
    }
    let (error, m, seen) = await task.value
    XCTAssertTrue(error is CancellationError, "got \(String(describing: error))")
    XCTAssertEqual(seen, [1, 2], "stops before the next epoch")
    XCTAssertFalse(m.isFitted)
  }

  /// A cancelled `fitPartial` keeps the parameters and the generator it had.
  func testCancelledFitPartialKeepsTheModel() async throws {
    var fitted = model()
    try fitted.fit(data.train, epochs: 1)
    let before = fitted
    let x = data.train
    let task = Task { () -> (Error?, LightFM) in
      var m = before
      do {
        try m.fitPartial(x, epochs: 5) { progress in
          if progress.epoch == 3 { withUnsafeCurrentTask { $0?.cancel() } }
          return .continue
        }
        return (nil, m)
      } catch {
        return (error, m)
      }
    }
    let (error, after) = await task.value
    XCTAssertTrue(error is CancellationError)
    XCTAssertTrue(after.parameters == before.parameters, "parameters unchanged")
    // The generator too: continuing gives what continuing the untouched model gives.
    var a = after
    var b = before
    try a.fitPartial(x, epochs: 1)
    try b.fitPartial(x, epochs: 1)
    XCTAssertTrue(a.parameters == b.parameters)
  }

  func testCancelledRecommendThrows() async throws {
    var m = model()
    try m.fit(data.train, epochs: 1)
    let fitted = m
    let task = Task { () -> Error? in
      withUnsafeCurrentTask { $0?.cancel() }
      do {
        _ = try fitted.recommend(count: 5, numThreads: 1)
        return nil
      } catch {
        return error
      }
    }
    let error = await task.value
    XCTAssertTrue(error is CancellationError)
  }

  /// Inside a task, recommend scores in chunks (4,096 users per chunk on one thread) with the
  /// same lists as one pass outside a task.
  func testChunkedRecommendInsideATaskMatchesOnePass() async throws {
    let big = Synthetic.generate(
      Synthetic.Configuration(users: 9_000, items: 60, interactions: 40_000))
    var m = LightFM(noComponents: 4, loss: .bpr, randomState: 1)
    try m.fit(big.train, epochs: 1)
    let fitted = m
    let whole = try fitted.recommend(count: 5, excluding: big.train.toCSR(), numThreads: 1)
    let chunked = try await Task {
      try fitted.recommend(count: 5, excluding: big.train.toCSR(), numThreads: 1)
    }.value
    XCTAssertEqual(chunked.queries, whole.queries)
    XCTAssertTrue(zip(chunked, whole).allSatisfy { $0 == $1 })
  }
}
