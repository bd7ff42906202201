import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Work spread over worker threads: the one place the package starts them.
///
/// `blocks` runs every blocked loop (scoring, ranking, fold-in): workers take the next block
/// as they finish one, since other processes share the cores, and each worker allocates its
/// scratch once from a `ScratchArena` that frees it when the worker ends. `workers` is the bare
/// fork under it, for loops that split their work themselves (training's user ranges, span
/// copies, shuffles).
enum Parallel {
  /// The number of online processors, at least 1: the default worker count.
  static var processorCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

  /// Numbers 0, 1, 2, … handed to whichever worker asks next, without a lock.
  final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    /// The next number.
    @inline(__always)
    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
  }

  /// Runs `body(w)` for every worker w in 0..<count at once; on the calling thread alone when
  /// `count` is 1 (waking a thread costs more than a short body).
  static func workers(_ count: Int, _ body: @Sendable (_ worker: Int) -> Void) {
    precondition(count >= 1, "at least one worker")
    if count == 1 {
      body(0)
    } else {
      DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }
  }

  /// Runs `body(block, scratch)` for every block in 0..<blocks on min(threads, blocks)
  /// workers, each taking the next block as it finishes one.
  ///
  /// Each worker calls `makeScratch` once, with an arena that frees everything allocated from
  /// it when the worker ends. OpenBLAS is pinned to one thread meanwhile (`BLAS.withThreads`):
  /// the workers are the parallelism, and BLAS calls that spread over the cores as well would
  /// oversubscribe them.
  ///
  /// - Complexity: the blocks' cost spread over the workers, plus one scratch per worker.
  static func blocks<Scratch>(
    _ blocks: Int, threads: Int,
    scratch makeScratch: @Sendable (ScratchArena) -> Scratch,
    _ body: @Sendable (_ block: Int, _ scratch: Scratch) -> Void
  ) {
    guard blocks > 0 else { return }
    let counter = Counter()
    BLAS.withThreads(1) {
      workers(max(1, min(threads, blocks))) { _ in
        withExtendedLifetime(ScratchArena()) { arena in
          let scratch = makeScratch(arena)
          while true {
            let block = counter.next()
            if block >= blocks { break }
            body(block, scratch)
          }
        }
      }
    }
  }
}

/// Memory for one worker or one call: uninitialised buffers of trivial elements, all freed
/// together when the arena is released, on whatever path its owner leaves.
///
/// Buffers start on 64-byte boundaries (a cache line, and any SIMD load's alignment).
final class ScratchArena {
  private var allocations: [UnsafeMutableRawPointer] = []

  init() {}

  /// `count` uninitialised elements, valid while the arena lives.
  func allocate<Element: BitwiseCopyable>(
    _ type: Element.Type = Element.self, count: Int
  ) -> UnsafeMutablePointer<Element> {
    precondition(count >= 0, "negative scratch size")
    let slots = max(1, count)
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: slots * MemoryLayout<Element>.stride,
      alignment: max(64, MemoryLayout<Element>.alignment))
    allocations.append(raw)
    return raw.bindMemory(to: Element.self, capacity: slots)
  }

  /// A copy of `array`, valid while the arena lives.
  func copy<Element: BitwiseCopyable>(_ array: [Element]) -> UnsafeMutablePointer<Element> {
    let base = allocate(Element.self, count: array.count)
    array.withUnsafeBufferPointer { source in
      if let s = source.baseAddress { base.update(from: s, count: array.count) }
    }
    return base
  }

  deinit {
    for raw in allocations { raw.deallocate() }
  }
}
