import CZlib
import LightFMKit

/// Builds zip archives for tests, fuzz seeds and `NPZWriter`, honest or not: members stored or
/// deflated (through zlib), made of literal bytes and runs of zeros (so a 1 GiB bomb never exists
/// uncompressed), with sizes that can be declared falsely, duplicate names, and zip64 records.
public struct ZipFixture {
  /// A piece of a member's uncompressed content.
  public enum Part {
    case bytes([UInt8])
    case zeros(Int)
  }

  private var body: [UInt8] = []
  private var central: [UInt8] = []
  private var count = 0

  public init() {}

  /// Adds a member. `declaredSize` replaces the true uncompressed size in both headers;
  /// `zip64` writes the sizes and offset in a zip64 extra field, as numpy does.
  public mutating func add(
    _ name: String, _ parts: [Part], deflate: Bool = false, declaredSize: Int? = nil,
    zip64: Bool = false
  ) {
    var crc: UInt32 = 0
    var size = 0
    let zeros = [UInt8](repeating: 0, count: 1 << 16)
    var data: [UInt8] = []
    var compressor = deflate ? Deflater() : nil
    func feed(_ chunk: UnsafeRawBufferPointer) {
      crc = CRC32.checksum(chunk, continuing: crc)
      size += chunk.count
      if compressor != nil { compressor!.feed(chunk, into: &data) } else { data += chunk }
    }
    for part in parts {
      switch part {
      case .bytes(let b): b.withUnsafeBytes { feed($0) }
      case .zeros(var n):
        while n > 0 {
          let k = min(n, zeros.count)
          zeros.withUnsafeBytes { feed(UnsafeRawBufferPointer(rebasing: $0[0..<k])) }
          n -= k
        }
      }
    }
    compressor?.finish(into: &data)
    let offset = body.count
    let nameBytes = Array(name.utf8)
    let declared = declaredSize ?? size
    func header(central: Bool) -> [UInt8] {
      var h: [UInt8] = []
      h.le(central ? 0x0201_4B50 : 0x0403_4B50, 4)
      if central { h.le(45, 2) }
      h.le(zip64 ? 45 : 20, 2)
      h.le(0, 2)  // flags
      h.le(deflate ? 8 : 0, 2)
      h.le(0, 2)
      h.le(0x21, 2)
      h.le(UInt64(crc), 4)
      h.le(zip64 ? 0xFFFF_FFFF : UInt64(data.count), 4)
      h.le(zip64 ? 0xFFFF_FFFF : UInt64(declared), 4)
      h.le(UInt64(nameBytes.count), 2)
      h.le(zip64 ? (central ? 28 : 20) : 0, 2)
      if central {
        h.le(0, 2)
        h.le(0, 2)
        h.le(0, 2)
        h.le(0, 4)
        h.le(zip64 ? 0xFFFF_FFFF : UInt64(offset), 4)
      }
      h += nameBytes
      if zip64 {
        h.le(1, 2)
        h.le(central ? 24 : 16, 2)
        h.le(UInt64(declared), 8)
        h.le(UInt64(data.count), 8)
        if central { h.le(UInt64(offset), 8) }
      }
      return h
    }
    body += header(central: false)
    body += data
    central += header(central: true)
    count += 1
  }

  /// The archive. `zip64End` adds a zip64 end record and locator with the counts and offsets
  /// (and saturates the classic end record's fields, as writers do past their limits).
  public func bytes(zip64End: Bool = false) -> [UInt8] {
    var out = body + central
    if zip64End {
      let recordOffset = out.count
      out.le(0x0606_4B50, 4)
      out.le(44, 8)  // size of the rest of the record
      out.le(45, 2)
      out.le(45, 2)
      out.le(0, 4)
      out.le(0, 4)
      out.le(UInt64(count), 8)
      out.le(UInt64(count), 8)
      out.le(UInt64(central.count), 8)
      out.le(UInt64(body.count), 8)
      out.le(0x0706_4B50, 4)
      out.le(0, 4)
      out.le(UInt64(recordOffset), 8)
      out.le(1, 4)
    }
    out.le(0x0605_4B50, 4)
    out.le(0, 2)
    out.le(0, 2)
    out.le(zip64End ? 0xFFFF : UInt64(min(count, 0xFFFF)), 2)
    out.le(zip64End ? 0xFFFF : UInt64(min(count, 0xFFFF)), 2)
    out.le(zip64End ? 0xFFFF_FFFF : UInt64(central.count), 4)
    out.le(zip64End ? 0xFFFF_FFFF : UInt64(body.count), 4)
    out.le(0, 2)
    return out
  }

  /// A version 1.0 `.npy` header (magic, dict, padding) for `descr` and `shape`.
  public static func npyHeader(descr: String, shape: [Int]) -> [UInt8] {
    NumpyArray.npyHeader(descr: descr, shape: shape)
  }
}

/// Raw DEFLATE through zlib, fed in pieces.
private struct Deflater {
  private let stream: UnsafeMutablePointer<z_stream>
  private var output = [UInt8](repeating: 0, count: 1 << 16)

  init() {
    stream = .allocate(capacity: 1)
    stream.initialize(to: z_stream())
    precondition(lightfm_deflate_init_raw(stream, 9) == Z_OK)
  }

  mutating func feed(_ chunk: UnsafeRawBufferPointer, into data: inout [UInt8]) {
    run(chunk, flush: Z_NO_FLUSH, into: &data)
  }

  mutating func finish(into data: inout [UInt8]) {
    run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH, into: &data)
    deflateEnd(stream)
    stream.deinitialize(count: 1)
    stream.deallocate()
  }

  private mutating func run(
    _ chunk: UnsafeRawBufferPointer, flush: Int32, into data: inout [UInt8]
  ) {
    let stream = self.stream
    stream.pointee.next_in = UnsafeMutablePointer(
      mutating: chunk.baseAddress?.assumingMemoryBound(to: Bytef.self))
    stream.pointee.avail_in = uInt(chunk.count)
    while true {
      let (status, produced) = output.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
        stream.pointee.next_out = out.baseAddress
        stream.pointee.avail_out = uInt(out.count)
        let status = deflate(stream, flush)
        return (status, out.count - Int(stream.pointee.avail_out))
      }
      data += output[0..<produced]
      if flush == Z_FINISH {
        if status == Z_STREAM_END { return }
      } else if stream.pointee.avail_in == 0 && produced < output.count {
        return
      }
    }
  }
}

extension [UInt8] {
  fileprivate mutating func le(_ v: UInt64, _ n: Int) {
    for k in 0..<n { append(UInt8(truncatingIfNeeded: v >> UInt64(8 * k))) }
  }
}
