import Foundation

/// The memory budget of the readers: how many bytes reading one input may allocate.
///
/// Every size that comes from a file (an `.npz` member's declared size, a `.npy` shape, a sparse
/// matrix's shape and entry count) is first checked against what the input can actually hold:
/// a deflated member cannot inflate past `LoadLimits.maxDeflateRatio` times its compressed size,
/// and an array cannot hold more elements than its bytes encode. What is left is checked against
/// this budget before anything is allocated, so that an input needing more memory than allowed
/// is refused with a `LightFMError` that names it, rather than killed by the allocator.
///
/// The budget applies to each input on its own (one `.npz`, one `.npy`, one text file). Its
/// default is half the machine's physical memory (at least 256 MiB); a program can change it
/// once at start-up through `LoadLimits.default` (the `lightfm` tool's `--max-memory` does), or
/// pass a value to each reader.
public struct LoadLimits: Sendable, Equatable {
  /// The most bytes that reading one input may allocate.
  public var maxBytes: Int

  /// A budget of `maxBytes` bytes.
  ///
  /// - Precondition: `maxBytes > 0`.
  public init(maxBytes: Int) {
    precondition(maxBytes > 0, "a memory budget must be positive, got \(maxBytes)")
    self.maxBytes = maxBytes
  }

  /// The most a DEFLATE stream can expand: zlib's documented limit is about 1032 to 1, as one
  /// 258-byte match can be coded in two bits.
  public static let maxDeflateRatio = 1032

  /// Half of the physical memory, at least 256 MiB.
  public static var machineDefault: LoadLimits {
    let physical = ProcessInfo.processInfo.physicalMemory
    let half = Int(clamping: physical / 2)
    return LoadLimits(maxBytes: max(half, 256 << 20))
  }

  private static let lock = NSLock()
  nonisolated(unsafe) private static var stored: LoadLimits?

  /// The budget readers use when none is passed: `machineDefault` unless it was set.
  public static var `default`: LoadLimits {
    get {
      lock.lock()
      defer { lock.unlock() }
      return stored ?? machineDefault
    }
    set {
      lock.lock()
      defer { lock.unlock() }
      stored = newValue
    }
  }

  /// Throws unless `bytes` (computed from `count` items of `size` bytes each, with overflow
  /// checked) fit in the budget; `what` says what would be allocated and for which input.
  package func require(count: Int, size: Int, _ what: @autoclosure () -> String) throws {
    let (bytes, overflow) = max(count, 0).multipliedReportingOverflow(by: max(size, 0))
    if overflow || bytes > maxBytes {
      throw LightFMError(
        .invalidData,
        "\(what()) would need \(overflow ? "more than \(Int.max)" : "\(bytes)") bytes, more "
          + "than the memory budget of \(LoadLimits.describe(maxBytes)) (raise it with "
          + "--max-memory, or LoadLimits.default in code)")
    }
  }

  /// Throws unless a model with `rows` feature rows (user and item features together) of
  /// `components` dimensions fits in the budget: its embeddings and biases and the optimiser's
  /// accumulators take up to four `Float`s per parameter. `what` names the setting.
  public func requireModel(rows: Int, components: Int, _ what: @autoclosure () -> String) throws {
    let (perRow, overflow) = (max(components, 0) + 1).multipliedReportingOverflow(by: 16)
    try require(
      count: overflow ? Int.max : rows, size: overflow ? 2 : perRow,
      "\(what()): a model of \(rows) feature rows and \(components) components")
  }

  /// `bytes` for messages: `1.5 GB`, `200 MB`, `512 kB` (decimal units).
  public static func describe(_ bytes: Int) -> String {
    let units: [(Double, String)] = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")]
    for (scale, unit) in units where Double(bytes) >= scale {
      let value = Double(bytes) / scale
      let text = value >= 100 ? String(Int(value.rounded())) : String(format: "%.3g", value)
      return "\(text) \(unit)"
    }
    return "\(bytes) bytes"
  }

  /// Parses a size such as `2G`, `512M`, `1500k`, `4GB`, `1GiB` or a plain byte count; `nil` when
  /// it is not one or is not positive. Suffixes are binary (k = 1024).
  public static func parseSize(_ text: String) -> Int? {
    var digits = text.trimmingCharacters(in: .whitespaces).lowercased()
    var scale = 1
    for suffix in ["ib", "b"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
      digits.removeLast(suffix.count)
      break
    }
    if let last = digits.last, let shift = ["k": 10, "m": 20, "g": 30, "t": 40][String(last)] {
      digits.removeLast()
      scale = 1 << shift
    }
    guard let value = Double(digits), value.isFinite, value > 0 else { return nil }
    let bytes = value * Double(scale)
    guard bytes >= 1, bytes < 9e18 else { return nil }
    return Int(bytes)
  }
}
