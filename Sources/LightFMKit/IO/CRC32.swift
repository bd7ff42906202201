/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zip archives and our model files use.
///
/// Table-driven, eight bytes per step ("slicing by 8").
///
/// - Complexity: O(n).
/// Internal to the package; `_LightFMTestSupport`'s `.npz` writer reaches it through
/// `@_spi(Benchmarks) import LightFMKit`.
@_spi(Benchmarks)
public enum CRC32 {
  /// Eight 256-entry tables, flat: table t starts at `t * 256`.
  static let table: [UInt32] = {
    var table = [UInt32](repeating: 0, count: 8 * 256)
    for n in 0..<256 {
      var c = UInt32(n)
      for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
      table[n] = c
    }
    for t in 1..<8 {
      for n in 0..<256 {
        let previous = table[(t - 1) * 256 + n]
        table[t * 256 + n] = table[Int(previous & 0xFF)] ^ (previous >> 8)
      }
    }
    return table
  }()

  /// The checksum of `bytes`, continuing from `crc` (0 to start).
  static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    table.withUnsafeBufferPointer { t in
      var c = ~crc
      var n = 0
      let count = bytes.count
      while n + 8 <= count {
        let lo =
          c
          ^ (UInt32(bytes[n]) | UInt32(bytes[n + 1]) << 8
            | UInt32(bytes[n + 2]) << 16 | UInt32(bytes[n + 3]) << 24)
        let hi =
          UInt32(bytes[n + 4]) | UInt32(bytes[n + 5]) << 8
          | UInt32(bytes[n + 6]) << 16 | UInt32(bytes[n + 7]) << 24
        c =
          t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
          ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
          ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
          ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
        n += 8
      }
      while n < count {
        c = t[Int((c ^ UInt32(bytes[n])) & 0xFF)] ^ (c >> 8)
        n += 1
      }
      return ~c
    }
  }

  public static func checksum(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { checksum($0) }
  }
}
