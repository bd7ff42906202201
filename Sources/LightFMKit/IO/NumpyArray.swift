import Foundation

/// An n-dimensional numpy array, as stored in a `.npy` file or an `.npz` member, in C order.
///
/// Reading accepts float32/64, signed and unsigned integers of 1 to 8 bytes (widened to
/// `Int64`), booleans and byte or unicode strings, in either byte order. Writing produces
/// float32, float64, int32 or int64 little-endian arrays that `numpy.load` reads back.
public struct NumpyArray: Equatable, Sendable {
  /// The elements, flat in C (row-major) order, in their stored type.
  public enum Elements: Equatable, Sendable {
    /// 32-bit floats (`f4`; read in either byte order, written little-endian).
    case float32([Float])
    /// 64-bit floats (`f8`).
    case float64([Double])
    /// 32-bit signed integers (`i4`).
    case int32([Int32])
    /// 64-bit signed integers (`i8`); reading widens the other integer types (1 or 2 signed
    /// bytes, 1 to 8 unsigned) to them.
    case int64([Int64])
    /// Booleans (`b1`).
    case bool([Bool])
    /// Strings: read from byte (`S`) or unicode (`U`) arrays without their trailing NULs,
    /// written as UTF-8 bytes (`S`).
    case strings([String])
  }

  /// The dimensions; `[]` for a scalar (one element).
  public let shape: [Int]
  /// The elements, `shape`'s product of them, flat in C order.
  public let elements: Elements

  /// Wraps elements with a shape.
  ///
  /// - Precondition: the product of `shape` equals the number of elements.
  public init(shape: [Int], elements: Elements) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
    self.shape = shape
    self.elements = elements
    precondition(
      shape.reduce(1, *) == count, "shape \(shape) does not hold \(count) elements")
  }

  /// A float32 array.
  public init(_ values: [Float], shape: [Int]? = nil) {
    self.init(shape: shape ?? [values.count], elements: .float32(values))
  }

  /// The number of elements.
  public var count: Int {
    switch elements {
    case .float32(let v): v.count
    case .float64(let v): v.count
    case .int32(let v): v.count
    case .int64(let v): v.count
    case .bool(let v): v.count
    case .strings(let v): v.count
    }
  }

  /// The numpy type string (`descr`) this array is written with, e.g. `<f4`.
  public var descr: String {
    switch elements {
    case .float32: "<f4"
    case .float64: "<f8"
    case .int32: "<i4"
    case .int64: "<i8"
    case .bool: "|b1"
    case .strings(let v): "|S\(max(1, v.map { $0.utf8.count }.max() ?? 1))"
    }
  }

  /// The elements as `Float`, converting from any numeric type.
  ///
  /// - Throws: `LightFMError` for strings, or a value that is not finite as a `Float`.
  public func floatValues(_ what: String) throws -> [Float] {
    let values: [Float]
    switch elements {
    case .float32(let v): values = v
    case .float64(let v): values = v.map { Float($0) }
    case .int32(let v): values = v.map { Float($0) }
    case .int64(let v): values = v.map { Float($0) }
    case .bool(let v): values = v.map { $0 ? 1 : 0 }
    case .strings:
      throw LightFMError.invalidData("\(what) holds strings, expected numbers")
    }
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
      throw LightFMError.invalidData(
        "\(what) element \(bad) is \(values[bad]) as a 32-bit float: expected a finite value")
    }
    return values
  }

  /// The elements as `Int`, from an integer or boolean array.
  ///
  /// - Throws: `LightFMError` for floating-point or string arrays.
  public func integerValues(_ what: String) throws -> [Int] {
    switch elements {
    case .int32(let v): return v.map { Int($0) }
    case .int64(let v): return v.map { Int($0) }
    case .bool(let v): return v.map { $0 ? 1 : 0 }
    case .float32, .float64, .strings:
      throw LightFMError.invalidData("\(what) has type \(descr), expected integers")
    }
  }
}

// MARK: - .npy reading

extension NumpyArray {
  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

  /// Reads a `.npy` file, streaming its data straight into the array.
  ///
  /// - Throws: `LightFMError` naming the file for anything that is not a C-order `.npy` array
  ///   of a supported type, that is truncated, or that needs more memory than `limits` allows.
  public static func read(from url: URL, limits: LoadLimits = .default) throws -> NumpyArray {
    let file = try InputFile(path: url.path)
    guard file.size != nil else {
      return try NumpyArray(npyBytes: try file.readAll(limits: limits), file: url.path)
    }
    let stream = FileByteStream(file, failure: failure(url.path))
    return try NumpyArray(stream: stream, file: url.path, limits: limits)
  }

  /// Parses the bytes of a `.npy` file; `file` names it in errors.
  public init(npyBytes bytes: [UInt8], file: String, limits: LoadLimits = .default) throws {
    let stream = MemoryByteStream(bytes, failure: Self.failure(file))
    try self.init(stream: stream, file: file, limits: limits)
  }

  static func failure(_ file: String) -> @Sendable (String) -> LightFMError {
    { message in LightFMError(.parse, "\(file): not a readable .npy array: \(message)") }
  }

  /// What a `.npy` header declares.
  package struct Header {
    package let descr: String
    package let shape: [Int]
    /// The number of elements (the product of `shape`).
    package let count: Int
  }

  /// Parses a `.npy` from `stream`, reading the header in small pieces and the data straight
  /// into the array's storage (converted in 64 KiB pieces when the stored type differs).
  package init(stream: some ByteStream, file: String, limits: LoadLimits) throws {
    let header = try Self.readHeader(stream, file: file)
    let elements = try Self.decode(
      header.descr, count: header.count, stream: stream, limits: limits,
      what: "\(file): array of shape \(header.shape) and type \(header.descr)",
      fail: Self.failure(file))
    self.init(shape: header.shape, elements: elements)
  }

  /// Reads the magic string and header of a `.npy` from `stream`, leaving it at the data.
  package static func readHeader(_ stream: some ByteStream, file: String) throws -> Header {
    let fail = Self.failure(file)
    guard stream.remaining >= 10 else {
      throw fail(
        stream.remaining == 0 ? "the file is empty" : "missing the \\x93NUMPY magic string")
    }
    let head = try stream.bytes(8, "magic string")
    guard Array(head[0..<6]) == Self.magic else {
      throw fail("missing the \\x93NUMPY magic string")
    }
    let major = head[6]
    let headerLength: Int
    switch major {
    case 1:
      let b = try stream.bytes(2, "header length")
      headerLength = Int(b[0]) | Int(b[1]) << 8
    case 2, 3:
      let b = try stream.bytes(4, "header length")
      headerLength = Int(b[0]) | Int(b[1]) << 8 | Int(b[2]) << 16 | Int(b[3]) << 24
    default: throw fail("format version \(major) is not supported (1 to 3 are)")
    }
    // numpy itself refuses headers over 10,000 bytes by default; allow a generous margin.
    guard headerLength <= 1 << 20 else {
      throw fail("header of \(headerLength) bytes is too long (at most 1 MiB)")
    }
    let headerBytes = try stream.bytes(headerLength, "header")
    guard let header = String(validating: headerBytes, as: UTF8.self) else {
      throw fail("header is not text")
    }
    let (descr, fortranOrder, shape) = try Self.parseHeader(header, fail: fail)
    let count = try Self.elementCount(shape, fail: fail)
    if fortranOrder && shape.filter({ $0 > 1 }).count > 1 {
      throw fail("array is in Fortran order; save it in C order (numpy.ascontiguousarray)")
    }
    return Header(descr: descr, shape: shape, count: count)
  }

  static func elementCount(_ shape: [Int], fail: (String) -> LightFMError) throws -> Int {
    var count = 1
    for d in shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: d)
      guard d >= 0, !overflow else { throw fail("shape \(shape) is too large") }
      count = product
    }
    return count
  }

  /// The bytes of memory one element of `descr` takes once read (an estimate for strings).
  static func storageStride(kind: Character, itemSize: Int) -> Int {
    switch (kind, itemSize) {
    case ("f", 4), ("i", 4): 4
    case ("b", _): 1
    case ("S", _), ("U", _): stringStorage(itemSize)
    default: 8
    }
  }

  /// The bytes a `String` of `utf8Count` bytes takes: up to 15 are held inline, longer ones in
  /// a heap buffer.
  static func stringStorage(_ utf8Count: Int) -> Int {
    16 + (utf8Count > 15 ? utf8Count + 32 : 0)
  }

  /// The approximate bytes the elements occupy in memory.
  package var storageBytes: Int {
    switch elements {
    case .float32(let v): 4 * v.count
    case .int32(let v): 4 * v.count
    case .float64(let v): 8 * v.count
    case .int64(let v): 8 * v.count
    case .bool(let v): v.count
    case .strings(let v): v.reduce(0) { $0 + Self.stringStorage($1.utf8.count) }
    }
  }

  /// The bytes one element of numpy type `descr` takes in the file.
  ///
  /// - Throws: the error `fail` makes for an unknown or unsupported type.
  package static func itemSize(_ descr: String, fail: (String) -> LightFMError) throws -> Int {
    try parseType(descr, fail: fail).size
  }

  /// Byte order, kind and stored element size of a supported numpy type string.
  static func parseType(
    _ descr: String, fail: (String) -> LightFMError
  ) throws -> (swap: Bool, kind: Character, size: Int) {
    var chars = Array(descr)
    guard chars.count >= 2 else { throw fail("unknown type '\(descr)'") }
    let order = chars.removeFirst()
    guard "<>|=".contains(order) else { throw fail("unknown byte order in type '\(descr)'") }
    let kind = chars.removeFirst()
    guard chars.allSatisfy(\.isASCII), let width = Int(String(chars)), width > 0 else {
      throw fail("unknown type '\(descr)'")
    }
    // `<U n` is n characters of 4 bytes (UTF-32); every other type's number is its byte size.
    let (size, overflow) = width.multipliedReportingOverflow(by: kind == "U" ? 4 : 1)
    guard !overflow else { throw fail("type '\(descr)' is too large") }
    switch (kind, size) {
    case ("f", 4), ("f", 8), ("i", 1), ("i", 2), ("i", 4), ("i", 8), ("u", 1), ("u", 2),
      ("u", 4), ("u", 8), ("b", 1), ("S", _), ("U", _):
      return (order == ">", kind, size)
    default:
      throw fail("type '\(descr)' is not supported (float32/64, integers, bool and strings are)")
    }
  }

  /// Decodes `count` elements of numpy type `descr` from `stream`, after checking that the
  /// stream holds their bytes and that they fit in `limits`.
  static func decode(
    _ descr: String, count: Int, stream: some ByteStream, limits: LoadLimits,
    what: @autoclosure () -> String, fail: (String) -> LightFMError
  ) throws -> Elements {
    let (swap, kind, size) = try parseType(descr, fail: fail)
    guard count <= stream.remaining / size else {
      let (needed, overflow) = count.multipliedReportingOverflow(by: size)
      throw fail(
        "truncated: \(count) elements of \(descr) need "
          + (overflow ? "more than \(Int.max)" : "\(needed)")
          + " bytes, only \(stream.remaining) left")
    }
    try limits.require(
      count: count, size: storageStride(kind: kind, itemSize: size), what())

    /// Reads the elements' bytes straight into a new array of `T` (same size, native order
    /// after an optional byte swap).
    func direct<T: BitwiseCopyable>(_: T.Type) throws -> [T] {
      precondition(MemoryLayout<T>.stride == size)
      var values = try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        try stream.read(into: UnsafeMutableRawBufferPointer(buffer), "array data")
        initialized = count
      }
      if swap {
        values.withUnsafeMutableBytes { raw in
          for n in 0..<count {
            var lo = n * size
            var hi = lo + size - 1
            while lo < hi {
              raw.swapAt(lo, hi)
              lo += 1
              hi -= 1
            }
          }
        }
      }
      return values
    }

    /// Reads the elements in pieces of about 64 KiB, converting each with `convert`.
    func converted<T>(_ convert: (UnsafeRawBufferPointer, Int) throws -> T) throws -> [T] {
      // No element, no buffer (a huge item size with no element holds no bytes).
      if count == 0 { return [] }
      var values: [T] = []
      values.reserveCapacity(count)
      let perChunk = max(1, (1 << 16) / size)
      var chunk = [UInt8](repeating: 0, count: min(perChunk, max(count, 1)) * size)
      var done = 0
      while done < count {
        let k = min(perChunk, count - done)
        try chunk.withUnsafeMutableBytes { raw in
          try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<(k * size)]),
            "array data")
        }
        try chunk.withUnsafeBytes { raw in
          for n in 0..<k { values.append(try convert(raw, n * size)) }
        }
        done += k
      }
      return values
    }

    func word(_ raw: UnsafeRawBufferPointer, _ base: Int) -> UInt64 {
      var value: UInt64 = 0
      for k in 0..<size {
        let byte = UInt64(raw[base + (swap ? size - 1 - k : k)])
        value |= byte << UInt64(8 * k)
      }
      return value
    }

    switch (kind, size) {
    case ("f", 4): return .float32(try direct(Float.self))
    case ("f", 8): return .float64(try direct(Double.self))
    case ("i", 4): return .int32(try direct(Int32.self))
    case ("i", 8): return .int64(try direct(Int64.self))
    case ("i", _):
      let shift = UInt64(64 - 8 * size)
      return .int64(try converted { Int64(bitPattern: word($0, $1) << shift) >> Int64(shift) })
    case ("u", 8):
      return .int64(
        try converted { raw, base in
          let v = word(raw, base)
          guard v <= UInt64(Int64.max) else {
            throw fail("uint64 value \(v) does not fit a signed 64-bit integer")
          }
          return Int64(v)
        })
    case ("u", _): return .int64(try converted { Int64(word($0, $1)) })
    case ("b", _): return .bool(try converted { raw, base in raw[base] != 0 })
    case ("S", _):
      return .strings(
        try converted { raw, base in
          let bytes = UnsafeRawBufferPointer(rebasing: raw[base..<(base + size)])
          return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        })
    default:  // "U": UTF-32 code units, zero-padded.
      return .strings(
        try converted { raw, base in
          var scalars = String.UnicodeScalarView()
          for c in 0..<(size / 4) {
            var v: UInt32 = 0
            for k in 0..<4 {
              v |= UInt32(raw[base + 4 * c + (swap ? 3 - k : k)]) << UInt32(8 * k)
            }
            if v == 0 { break }
            scalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
          }
          return String(scalars)
        })
    }
  }

  /// Parses the Python dict literal of a `.npy` header.
  static func parseHeader(_ header: String, fail: (String) -> LightFMError) throws
    -> (descr: String, fortranOrder: Bool, shape: [Int])
  {
    var parser = HeaderParser(chars: Array(header.unicodeScalars), position: 0)
    guard let dict = parser.parseDict() else {
      throw fail("header is not a Python dict literal: \(header.prefix(120))")
    }
    guard case .string(let descr)? = dict["descr"] else {
      throw fail("header has no 'descr' string (structured dtypes are not supported)")
    }
    guard case .bool(let fortranOrder)? = dict["fortran_order"] else {
      throw fail("header has no 'fortran_order'")
    }
    guard case .tuple(let shape)? = dict["shape"] else { throw fail("header has no 'shape'") }
    return (descr, fortranOrder, shape)
  }

  /// A tiny parser for the literals numpy writes in headers: strings, booleans, int tuples.
  struct HeaderParser {
    enum Value {
      case string(String)
      case bool(Bool)
      case tuple([Int])
    }

    let chars: [Unicode.Scalar]
    var position: Int

    mutating func skipSpace() {
      while position < chars.count, chars[position].properties.isWhitespace { position += 1 }
    }

    mutating func eat(_ c: Unicode.Scalar) -> Bool {
      skipSpace()
      guard position < chars.count, chars[position] == c else { return false }
      position += 1
      return true
    }

    mutating func parseString() -> String? {
      skipSpace()
      guard position < chars.count, chars[position] == "'" || chars[position] == "\"" else {
        return nil
      }
      let quote = chars[position]
      position += 1
      var out = String.UnicodeScalarView()
      while position < chars.count, chars[position] != quote {
        out.append(chars[position])
        position += 1
      }
      guard position < chars.count else { return nil }
      position += 1
      return String(out)
    }

    mutating func parseInt() -> Int? {
      skipSpace()
      var digits = ""
      while position < chars.count, ("0"..."9").contains(chars[position]) {
        digits.unicodeScalars.append(chars[position])
        position += 1
      }
      // Python 2 wrote longs as `3L`.
      if position < chars.count, chars[position] == "L" { position += 1 }
      return Int(digits)
    }

    mutating func parseValue() -> Value? {
      skipSpace()
      guard position < chars.count else { return nil }
      if chars[position] == "'" || chars[position] == "\"" {
        return parseString().map { .string($0) }
      }
      if eat("(") {
        var items: [Int] = []
        while !eat(")") {
          guard let n = parseInt() else { return nil }
          items.append(n)
          _ = eat(",")
        }
        return .tuple(items)
      }
      for (word, value) in [("True", true), ("False", false)] {
        let scalars = Array(word.unicodeScalars)
        if position + scalars.count <= chars.count,
          Array(chars[position..<(position + scalars.count)]) == scalars
        {
          position += scalars.count
          return .bool(value)
        }
      }
      return nil
    }

    mutating func parseDict() -> [String: Value]? {
      guard eat("{") else { return nil }
      var dict: [String: Value] = [:]
      while !eat("}") {
        guard let key = parseString(), eat(":"), let value = parseValue() else { return nil }
        dict[key] = value
        _ = eat(",")
      }
      return dict
    }
  }
}

// MARK: - .npy writing

extension NumpyArray {
  /// A version 1.0 `.npy` header (magic, version, length, dict and padding) for an array of
  /// `descr` and `shape` in C order; the data follows it.
  package static func npyHeader(descr: String, shape: [Int]) -> [UInt8] {
    let dims = shape.map(String.init).joined(separator: ", ")
    let shapeText = shape.count == 1 ? "(\(dims),)" : "(\(dims))"
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
    // Pad with spaces so the data starts on a 64-byte boundary; the header ends in a newline.
    let unpadded = magic.count + 2 + 2 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var writer = ByteWriter()
    writer.bytes(magic)
    writer.uint8(1)
    writer.uint8(0)
    writer.uint16(UInt16(header.utf8.count))
    writer.bytes(header.utf8)
    return writer.bytes
  }

  /// The bytes of a version 1.0 `.npy` file holding this array, little-endian, C order.
  public func npyBytes() -> [UInt8] {
    var writer = ByteWriter(bytes: Self.npyHeader(descr: descr, shape: shape))
    switch elements {
    case .float32(let v): writer.floats(v)
    case .float64(let v): for x in v { writer.uint64(x.bitPattern) }
    case .int32(let v): for x in v { writer.uint32(UInt32(bitPattern: x)) }
    case .int64(let v): for x in v { writer.uint64(UInt64(bitPattern: x)) }
    case .bool(let v): for x in v { writer.uint8(x ? 1 : 0) }
    case .strings(let v):
      let width = max(1, v.map { $0.utf8.count }.max() ?? 1)
      for s in v {
        writer.bytes(s.utf8)
        writer.bytes(repeatElement(0, count: width - s.utf8.count))
      }
    }
    return writer.bytes
  }

  /// Writes a `.npy` file through a temporary file in the same directory and a rename.
  ///
  /// - Throws: `LightFMError` (`.io`) when the file cannot be written.
  public func write(to url: URL) throws {
    try AtomicFileWriter.write(npyBytes(), to: url)
  }
}
