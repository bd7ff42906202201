import Foundation

/// An n-dimensional numpy array, as stored in a `.npy` file or an `.npz` member, in C order.
///
/// Reading accepts float32/64, signed and unsigned integers of 1 to 8 bytes (widened to
/// `Int64`), booleans and byte or unicode strings, in either byte order. Writing produces
/// float32, float64, int32 or int64 little-endian arrays that `numpy.load` reads back.
public struct NumpyArray: Equatable, Sendable {
  /// The elements, flat in C (row-major) order, in their stored type.
  public enum Elements: Equatable, Sendable {
    case float32([Float])
    case float64([Double])
    case int32([Int32])
    case int64([Int64])
    case bool([Bool])
    case strings([String])
  }

  /// The dimensions; `[]` for a scalar (one element).
  public let shape: [Int]
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

  /// Reads a `.npy` file.
  ///
  /// - Throws: `LightFMError` naming the file for anything that is not a C-order `.npy` array
  ///   of a supported type, or that is truncated.
  public static func read(from url: URL) throws -> NumpyArray {
    try NumpyArray(npyBytes: try readFileBytes(url), file: url.path)
  }

  /// Parses the bytes of a `.npy` file; `file` names it in errors.
  public init(npyBytes bytes: [UInt8], file: String) throws {
    let fail: @Sendable (String) -> LightFMError = { message in
      LightFMError(.parse, "\(file): not a readable .npy array: \(message)")
    }
    guard bytes.count >= 10, Array(bytes[0..<6]) == Self.magic else {
      throw fail(bytes.isEmpty ? "the file is empty" : "missing the \\x93NUMPY magic string")
    }
    var reader = ByteReader(bytes, offset: 6, failure: fail)
    let major = try reader.uint8("version")
    _ = try reader.uint8("version")
    let headerLength: Int
    switch major {
    case 1: headerLength = Int(try reader.uint16("header length"))
    case 2, 3: headerLength = Int(try reader.uint32("header length"))
    default: throw fail("format version \(major) is not supported (1 to 3 are)")
    }
    let headerBytes = try reader.bytes(headerLength, "header")
    guard let header = String(validating: headerBytes, as: UTF8.self) else {
      throw fail("header is not text")
    }
    let (descr, fortranOrder, shape) = try Self.parseHeader(header, fail: fail)
    let count = try Self.elementCount(shape, fail: fail)
    if fortranOrder && shape.filter({ $0 > 1 }).count > 1 {
      throw fail("array is in Fortran order; save it in C order (numpy.ascontiguousarray)")
    }
    let elements = try Self.decode(descr, count: count, reader: &reader, fail: fail)
    self.init(shape: shape, elements: elements)
  }

  static func elementCount(_ shape: [Int], fail: (String) -> LightFMError) throws -> Int {
    var count = 1
    for d in shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: d)
      guard d >= 0, !overflow, product <= Int(Int32.max) * 16 else {
        throw fail("shape \(shape) is too large")
      }
      count = product
    }
    return count
  }

  /// Decodes `count` elements of numpy type `descr`.
  static func decode(
    _ descr: String, count: Int, reader: inout ByteReader, fail: (String) -> LightFMError
  ) throws -> Elements {
    var chars = Array(descr)
    guard chars.count >= 2 else { throw fail("unknown type '\(descr)'") }
    let order = chars.removeFirst()
    guard "<>|=".contains(order) else { throw fail("unknown byte order in type '\(descr)'") }
    let swap = order == ">"
    let kind = chars.removeFirst()
    guard let size = Int(String(chars)), size > 0 else { throw fail("unknown type '\(descr)'") }
    guard count <= reader.remaining / size else {
      throw fail(
        "truncated: \(count) elements of \(descr) need \(count * size) bytes, "
          + "\(reader.remaining) left")
    }
    let data = try reader.bytes(count * size, "array data")
    let start = 0
    return try data.withUnsafeBytes { raw -> Elements in
      func word(_ n: Int) -> UInt64 {
        var value: UInt64 = 0
        let base = start + n * size
        for k in 0..<size {
          let byte = UInt64(raw[base + (swap ? size - 1 - k : k)])
          value |= byte << UInt64(8 * k)
        }
        return value
      }
      switch (kind, size) {
      case ("f", 4):
        return .float32(
          (0..<count).map { Float(bitPattern: UInt32(truncatingIfNeeded: word($0))) })
      case ("f", 8):
        return .float64((0..<count).map { Double(bitPattern: word($0)) })
      case ("i", 4):
        return .int32((0..<count).map { Int32(truncatingIfNeeded: word($0)) })
      case ("i", 8):
        return .int64((0..<count).map { Int64(bitPattern: word($0)) })
      case ("i", 1), ("i", 2):
        let shift = UInt64(64 - 8 * size)
        return .int64((0..<count).map { Int64(bitPattern: word($0) << shift) >> Int64(shift) })
      case ("u", 1), ("u", 2), ("u", 4):
        return .int64((0..<count).map { Int64(word($0)) })
      case ("u", 8):
        let values = (0..<count).map { word($0) }
        if let big = values.first(where: { $0 > UInt64(Int64.max) }) {
          throw fail("uint64 value \(big) does not fit a signed 64-bit integer")
        }
        return .int64(values.map { Int64($0) })
      case ("b", 1):
        return .bool((0..<count).map { raw[start + $0] != 0 })
      case ("S", _):
        return .strings(
          (0..<count).map { n in
            let bytes = raw[(start + n * size)..<(start + (n + 1) * size)]
            return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
          })
      case ("U", _):
        guard size % 4 == 0 else { throw fail("unknown type '\(descr)'") }
        return .strings(
          (0..<count).map { n in
            var scalars = String.UnicodeScalarView()
            for c in 0..<(size / 4) {
              let base = start + n * size + 4 * c
              var v: UInt32 = 0
              for k in 0..<4 {
                v |= UInt32(raw[base + (swap ? 3 - k : k)]) << UInt32(8 * k)
              }
              if v == 0 { break }
              scalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
            }
            return String(scalars)
          })
      default:
        throw fail(
          "type '\(descr)' is not supported (float32/64, integers, bool and strings are)")
      }
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
  /// The bytes of a version 1.0 `.npy` file holding this array, little-endian, C order.
  public func npyBytes() -> [UInt8] {
    let dims = shape.map(String.init).joined(separator: ", ")
    let shapeText = shape.count == 1 ? "(\(dims),)" : "(\(dims))"
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
    // Pad with spaces so the data starts on a 64-byte boundary; the header ends in a newline.
    let unpadded = Self.magic.count + 2 + 2 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var writer = ByteWriter()
    writer.bytes(Self.magic)
    writer.uint8(1)
    writer.uint8(0)
    writer.uint16(UInt16(header.utf8.count))
    writer.bytes(header.utf8)
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
