import CZlib

/// CRC-32 (IEEE 802.3, as zip archives and our model files use), computed by zlib.
///
/// Package-internal: `ModelFile`, the zip reader's member streams and `_LightFMTestSupport`'s
/// zip writers use it.
package enum CRC32 {
  /// The checksum of `bytes`, continuing from `crc` (0 to start).
  ///
  /// - Complexity: O(n).
  package static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0)
    -> UInt32
  {
    var c = uLong(crc)
    guard let base = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return crc }
    var offset = 0
    // zlib's crc32 takes a 32-bit length: feed it in pieces.
    while offset < bytes.count {
      let n = min(bytes.count - offset, 1 << 30)
      c = crc32(c, base + offset, uInt(n))
      offset += n
    }
    return UInt32(truncatingIfNeeded: c)
  }

  /// The checksum of `bytes`.
  package static func checksum(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { checksum($0) }
  }
}
