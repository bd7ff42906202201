/// A bounds-checked little-endian cursor over bytes, for the binary formats (zip, `.npy`, model
/// files). Every read past the end throws the error its owner supplies; nothing reads out of
/// bounds.
struct ByteReader {
  /// The bytes read, a slice of the caller's array (not a copy); `offset` counts from its start.
  let bytes: ArraySlice<UInt8>
  var offset: Int
  /// Builds the error thrown for a read past the end or a malformed value.
  let failure: @Sendable (String) -> LightFMError

  init(
    _ bytes: ArraySlice<UInt8>, offset: Int = 0,
    failure: @escaping @Sendable (String) -> LightFMError
  ) {
    self.bytes = bytes
    self.offset = offset
    self.failure = failure
  }

  init(_ bytes: [UInt8], offset: Int = 0, failure: @escaping @Sendable (String) -> LightFMError) {
    self.init(bytes[...], offset: offset, failure: failure)
  }

  var remaining: Int { bytes.count - offset }

  /// Throws unless `n` more bytes are there.
  func require(_ n: Int, _ what: @autoclosure () -> String) throws {
    guard n >= 0, n <= remaining else {
      throw failure(truncation(what(), needs: n, at: offset, left: remaining))
    }
  }

  mutating func skip(_ n: Int, _ what: @autoclosure () -> String) throws {
    try require(n, what())
    offset += n
  }

  mutating func uint8(_ what: @autoclosure () -> String) throws -> UInt8 {
    try require(1, what())
    defer { offset += 1 }
    return bytes[bytes.startIndex + offset]
  }

  mutating func uint16(_ what: @autoclosure () -> String) throws -> UInt16 {
    UInt16(truncatingIfNeeded: try littleEndian(2, what()))
  }

  mutating func uint32(_ what: @autoclosure () -> String) throws -> UInt32 {
    UInt32(truncatingIfNeeded: try littleEndian(4, what()))
  }

  mutating func uint64(_ what: @autoclosure () -> String) throws -> UInt64 {
    try littleEndian(8, what())
  }

  /// A non-negative count stored as a `UInt64`, checked against what is left to read when each
  /// element takes at least `elementSize` bytes (so a corrupt count cannot trigger a huge
  /// allocation).
  mutating func count(_ what: @autoclosure () -> String, elementSize: Int) throws -> Int {
    let name = what()
    let raw = try uint64(name)
    guard raw <= UInt64(Int.max / max(elementSize, 1)),
      Int(raw) * elementSize <= remaining
    else {
      throw failure("\(name) \(raw) is larger than the \(remaining) bytes left in the file")
    }
    return Int(raw)
  }

  mutating func bytes(_ n: Int, _ what: @autoclosure () -> String) throws -> ArraySlice<UInt8> {
    try require(n, what())
    defer { offset += n }
    let start = bytes.startIndex + offset
    return bytes[start..<(start + n)]
  }

  /// `count` little-endian `Float`s, bit for bit.
  mutating func floats(_ count: Int, _ what: @autoclosure () -> String) throws -> [Float] {
    try require(count * 4, what())
    let start = offset
    offset += count * 4
    return [Float](unsafeUninitializedCapacity: count) { out, initialized in
      bytes.withUnsafeBytes { raw in
        for n in 0..<count {
          let bits = raw.loadUnaligned(fromByteOffset: start + 4 * n, as: UInt32.self)
          out[n] = Float(bitPattern: UInt32(littleEndian: bits))
        }
      }
      initialized = count
    }
  }

  private mutating func littleEndian(_ n: Int, _ what: @autoclosure () -> String) throws -> UInt64
  {
    try require(n, what())
    var value: UInt64 = 0
    let start = bytes.startIndex + offset
    for k in 0..<n { value |= UInt64(bytes[start + k]) << UInt64(8 * k) }
    offset += n
    return value
  }
}

/// The message for a read of `n` bytes at `offset` with only `left` bytes left.
private func truncation(_ what: String, needs n: Int, at offset: Int, left: Int) -> String {
  "truncated: \(what) needs \(n) bytes at offset \(offset), only \(left) left"
}

/// Appends little-endian values to a byte buffer (the writing side of `ByteReader`).
struct ByteWriter {
  var bytes: [UInt8] = []

  mutating func uint8(_ v: UInt8) { bytes.append(v) }
  mutating func uint16(_ v: UInt16) { append(UInt64(v), 2) }
  mutating func uint32(_ v: UInt32) { append(UInt64(v), 4) }
  mutating func uint64(_ v: UInt64) { append(v, 8) }
  mutating func int(_ v: Int) {
    precondition(v >= 0)
    uint64(UInt64(v))
  }
  mutating func float(_ v: Float) { uint32(v.bitPattern) }
  mutating func bytes(_ v: some Sequence<UInt8>) { bytes.append(contentsOf: v) }

  /// Appends `values` bit for bit, little-endian.
  mutating func floats(_ values: [Float]) {
    let start = bytes.count
    bytes.append(contentsOf: repeatElement(0, count: values.count * 4))
    bytes.withUnsafeMutableBytes { raw in
      for (n, v) in values.enumerated() {
        raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: start + 4 * n, as: UInt32.self)
      }
    }
  }

  private mutating func append(_ v: UInt64, _ n: Int) {
    for k in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * k))) }
  }
}

/// Bytes read in order, in pieces, into the caller's buffers: an `.npy` in memory or in a file,
/// or a zip member inflating as it is read. Readers parse headers from small reads and fill
/// arrays in place, so nothing is held twice.
package protocol ByteStream: AnyObject {
  /// How many bytes are left.
  var remaining: Int { get }
  /// Fills `buffer` with the next bytes; throws (saying `what` was being read) when fewer
  /// than `buffer.count` are left or the source fails.
  func read(into buffer: UnsafeMutableRawBufferPointer, _ what: @autoclosure () -> String) throws
}

extension ByteStream {
  /// The next `n` bytes as an array.
  package func bytes(_ n: Int, _ what: @autoclosure () -> String) throws -> [UInt8] {
    guard n >= 0, n <= remaining else {
      throw LightFMError(
        .parse, "truncated: \(what()) needs \(n) bytes, only \(remaining) left")
    }
    return try [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
      try read(into: UnsafeMutableRawBufferPointer(buffer), what())
      initialized = n
    }
  }
}

/// A `ByteStream` over bytes in memory.
package final class MemoryByteStream: ByteStream {
  private let bytes: [UInt8]
  private var offset = 0
  private let fail: (String) -> LightFMError

  package init(_ bytes: [UInt8], failure: @escaping (String) -> LightFMError) {
    self.bytes = bytes
    self.fail = failure
  }

  package var remaining: Int { bytes.count - offset }

  package func read(
    into buffer: UnsafeMutableRawBufferPointer, _ what: @autoclosure () -> String
  ) throws {
    guard buffer.count <= remaining else {
      throw fail(truncation(what(), needs: buffer.count, at: offset, left: remaining))
    }
    guard buffer.count > 0 else { return }
    bytes.withUnsafeBytes { raw in
      buffer.copyMemory(
        from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + buffer.count)]))
    }
    offset += buffer.count
  }
}

/// A `ByteStream` over a regular file, read at offsets.
package final class FileByteStream: ByteStream {
  private let file: InputFile
  private var offset = 0
  private let size: Int
  private let fail: (String) -> LightFMError

  /// - Precondition: `file.size` is known (a regular file).
  package init(_ file: InputFile, failure: @escaping (String) -> LightFMError) {
    self.file = file
    self.size = file.size!
    self.fail = failure
  }

  package var remaining: Int { size - offset }

  package func read(
    into buffer: UnsafeMutableRawBufferPointer, _ what: @autoclosure () -> String
  ) throws {
    guard buffer.count <= remaining else {
      throw fail(truncation(what(), needs: buffer.count, at: offset, left: remaining))
    }
    try file.readExactly(into: buffer, at: offset)
    offset += buffer.count
  }
}
