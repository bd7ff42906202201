/// A DEFLATE decoder (RFC 1951), enough to read the `.npz` archives numpy writes with
/// `savez_compressed`.
///
/// Foundation on Linux offers no decompression, and the package takes no dependencies, so the
/// decoder is written here: stored, fixed-Huffman and dynamic-Huffman blocks, with canonical
/// Huffman codes decoded through a 9-bit lookup table and a bit-by-bit slow path for longer codes.
/// Every read is bounds-checked: a truncated or corrupted stream is a `LightFMError`, never a
/// crash.
///
/// - Complexity: O(compressed + decompressed bytes).
enum Inflate {
  /// Decompresses a raw DEFLATE stream (no zlib or gzip wrapper).
  ///
  /// - Parameters:
  ///   - input: the compressed bytes.
  ///   - expectedSize: the decompressed size when known (zip entries record it); output beyond
  ///     it is an error, and the buffer is reserved up front.
  /// - Throws: `LightFMError` (`.invalidData`) describing what is wrong with the stream.
  static func decompress(_ input: ArraySlice<UInt8>, expectedSize: Int? = nil) throws -> [UInt8] {
    var output: [UInt8] = []
    if let expectedSize { output.reserveCapacity(expectedSize) }
    let limit = expectedSize ?? Int.max
    try input.withUnsafeBufferPointer { buffer in
      var reader = BitReader(buffer)
      var isLast = false
      while !isLast {
        isLast = try reader.bits(1) == 1
        switch try reader.bits(2) {
        case 0:
          try copyStored(&reader, into: &output, limit: limit)
        case 1:
          try inflateBlock(
            &reader, literals: fixedTables.literals, distances: fixedTables.distances,
            into: &output, limit: limit)
        case 2:
          let (literals, distances) = try readDynamicTables(&reader)
          try inflateBlock(
            &reader, literals: literals, distances: distances, into: &output, limit: limit)
        default:
          throw LightFMError.invalidData("deflate stream has a block of reserved type 3")
        }
      }
    }
    if let expectedSize, output.count != expectedSize {
      throw LightFMError.invalidData(
        "deflate stream decompressed to \(output.count) bytes, expected \(expectedSize)")
    }
    return output
  }

  // MARK: - Bit reading

  /// Reads bits least-significant first, as DEFLATE packs them.
  struct BitReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    var buffer: UInt64 = 0
    var count = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Makes at least `n` (≤ 32) bits available when the input has them.
    @inline(__always)
    mutating func refill(_ n: Int) {
      while count < n && position < bytes.count {
        buffer |= UInt64(bytes[position]) << UInt64(count)
        position += 1
        count += 8
      }
    }

    /// The next `n` (≤ 32) bits as an integer.
    @inline(__always)
    mutating func bits(_ n: Int) throws -> Int {
      if n == 0 { return 0 }
      refill(n)
      guard count >= n else {
        throw LightFMError.invalidData("deflate stream ends in the middle of a block")
      }
      let value = Int(buffer & ((1 << UInt64(n)) - 1))
      buffer >>= UInt64(n)
      count -= n
      return value
    }

    /// Drops the bits left in the current byte (stored blocks start on a byte boundary).
    mutating func alignToByte() {
      let drop = count % 8
      buffer >>= UInt64(drop)
      count -= drop
    }
  }

  // MARK: - Huffman tables

  /// A canonical Huffman code: a 9-bit fast table plus counts and symbols for longer codes.
  struct Huffman {
    static let fastBits = 9
    /// Indexed by the next 9 input bits: `symbol << 4 | length`, or 0 when the code is longer.
    var fast: [UInt16]
    /// Number of codes of each length 0...15.
    var counts: [Int]
    /// Symbols ordered by code (length, then value).
    var symbols: [Int]

    /// Builds the code from each symbol's code length (0 = unused).
    ///
    /// - Throws: when the lengths over-subscribe the code space. An incomplete code is allowed
    ///   (DEFLATE permits one for a single distance code); reading an unassigned code fails later.
    init(lengths: [Int]) throws {
      counts = [Int](repeating: 0, count: 16)
      for length in lengths { counts[length] += 1 }
      counts[0] = 0
      var left = 1
      for length in 1...15 {
        left <<= 1
        left -= counts[length]
        if left < 0 {
          throw LightFMError.invalidData("deflate stream has an over-full Huffman code")
        }
      }
      var offsets = [Int](repeating: 0, count: 16)
      for length in 1..<15 { offsets[length + 1] = offsets[length] + counts[length] }
      symbols = [Int](repeating: 0, count: lengths.count)
      for (symbol, length) in lengths.enumerated() where length != 0 {
        symbols[offsets[length]] = symbol
        offsets[length] += 1
      }
      // Fast table: walk the codes in canonical order, writing each short one bit-reversed.
      fast = [UInt16](repeating: 0, count: 1 << Self.fastBits)
      var code = 0
      var index = 0
      for length in 1...Self.fastBits {
        for _ in 0..<counts[length] {
          var reversed = 0
          for b in 0..<length where code & (1 << b) != 0 { reversed |= 1 << (length - 1 - b) }
          let entry = UInt16(symbols[index] << 4 | length)
          var slot = reversed
          while slot < 1 << Self.fastBits {
            fast[slot] = entry
            slot += 1 << length
          }
          code += 1
          index += 1
        }
        code <<= 1
      }
    }

    /// Decodes one symbol.
    @inline(__always)
    func decode(_ reader: inout BitReader) throws -> Int {
      reader.refill(Self.fastBits)
      let peek = Int(reader.buffer & UInt64((1 << Self.fastBits) - 1))
      let entry = Int(fast[peek])
      let length = entry & 15
      if length != 0 && length <= reader.count {
        reader.buffer >>= UInt64(length)
        reader.count -= length
        return entry >> 4
      }
      // Slow path: codes longer than 9 bits, or the last few bits of the stream.
      var code = 0
      var first = 0
      var index = 0
      for length in 1...15 {
        code |= try reader.bits(1)
        let count = counts[length]
        if code - first < count { return symbols[index + code - first] }
        index += count
        first += count
        first <<= 1
        code <<= 1
      }
      throw LightFMError.invalidData("deflate stream has an invalid Huffman code")
    }
  }

  static let fixedTables: (literals: Huffman, distances: Huffman) = {
    var lengths = [Int](repeating: 8, count: 288)
    for s in 144..<256 { lengths[s] = 9 }
    for s in 256..<280 { lengths[s] = 7 }
    // Both tables are complete codes, so construction cannot fail.
    let literals = try! Huffman(lengths: lengths)
    let distances = try! Huffman(lengths: [Int](repeating: 5, count: 30))
    return (literals, distances)
  }()

  /// The order in which code-length code lengths are stored (RFC 1951 §3.2.7).
  static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

  static func readDynamicTables(_ reader: inout BitReader) throws -> (Huffman, Huffman) {
    let literalCount = try reader.bits(5) + 257
    let distanceCount = try reader.bits(5) + 1
    let codeLengthCount = try reader.bits(4) + 4
    guard literalCount <= 286, distanceCount <= 30 else {
      throw LightFMError.invalidData("deflate stream declares too many Huffman codes")
    }
    var codeLengthLengths = [Int](repeating: 0, count: 19)
    for n in 0..<codeLengthCount { codeLengthLengths[codeLengthOrder[n]] = try reader.bits(3) }
    let codeLengths = try Huffman(lengths: codeLengthLengths)
    var lengths: [Int] = []
    lengths.reserveCapacity(literalCount + distanceCount)
    while lengths.count < literalCount + distanceCount {
      let symbol = try codeLengths.decode(&reader)
      switch symbol {
      case 0...15:
        lengths.append(symbol)
      case 16:
        guard let previous = lengths.last else {
          throw LightFMError.invalidData("deflate stream repeats a code length before any is set")
        }
        lengths.append(contentsOf: repeatElement(previous, count: 3 + (try reader.bits(2))))
      case 17:
        lengths.append(contentsOf: repeatElement(0, count: 3 + (try reader.bits(3))))
      default:
        lengths.append(contentsOf: repeatElement(0, count: 11 + (try reader.bits(7))))
      }
    }
    guard lengths.count == literalCount + distanceCount else {
      throw LightFMError.invalidData("deflate stream's code lengths overrun their table")
    }
    guard lengths[256] != 0 else {
      throw LightFMError.invalidData("deflate stream has no end-of-block code")
    }
    let literals = try Huffman(lengths: Array(lengths[0..<literalCount]))
    let distances = try Huffman(lengths: Array(lengths[literalCount...]))
    return (literals, distances)
  }

  // MARK: - Blocks

  static func copyStored(_ reader: inout BitReader, into output: inout [UInt8], limit: Int) throws
  {
    reader.alignToByte()
    let length = try reader.bits(16)
    let complement = try reader.bits(16)
    guard length == ~complement & 0xFFFF else {
      throw LightFMError.invalidData("deflate stream has a stored block with a bad length check")
    }
    guard output.count + length <= limit else {
      throw LightFMError.invalidData("deflate stream decompresses past its recorded size")
    }
    // Whole bytes may still sit in the bit buffer; drain them first.
    var remaining = length
    while remaining > 0 && reader.count >= 8 {
      output.append(UInt8(try reader.bits(8)))
      remaining -= 1
    }
    guard reader.position + remaining <= reader.bytes.count else {
      throw LightFMError.invalidData("deflate stream ends in the middle of a stored block")
    }
    output.append(
      contentsOf: UnsafeBufferPointer(
        rebasing: reader.bytes[reader.position..<(reader.position + remaining)]))
    reader.position += remaining
  }

  static let lengthBase = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
  ]
  static let lengthExtra = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
  ]
  static let distanceBase = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
    257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
  ]
  static let distanceExtra = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
    13, 13,
  ]

  static func inflateBlock(
    _ reader: inout BitReader, literals: Huffman, distances: Huffman,
    into output: inout [UInt8], limit: Int
  ) throws {
    while true {
      let symbol = try literals.decode(&reader)
      if symbol < 256 {
        guard output.count < limit else {
          throw LightFMError.invalidData("deflate stream decompresses past its recorded size")
        }
        output.append(UInt8(symbol))
        continue
      }
      if symbol == 256 { return }
      let lengthCode = symbol - 257
      guard lengthCode < 29 else {
        throw LightFMError.invalidData("deflate stream has an invalid length code \(symbol)")
      }
      let length = lengthBase[lengthCode] + (try reader.bits(lengthExtra[lengthCode]))
      let distanceCode = try distances.decode(&reader)
      guard distanceCode < 30 else {
        throw LightFMError.invalidData("deflate stream has an invalid distance code")
      }
      let distance = distanceBase[distanceCode] + (try reader.bits(distanceExtra[distanceCode]))
      guard distance <= output.count else {
        throw LightFMError.invalidData("deflate stream refers back past the start of its output")
      }
      guard output.count + length <= limit else {
        throw LightFMError.invalidData("deflate stream decompresses past its recorded size")
      }
      let start = output.count - distance
      if distance >= length {
        output.append(contentsOf: output[start..<(start + length)])
      } else {
        for n in 0..<length { output.append(output[start + n]) }
      }
    }
  }
}
