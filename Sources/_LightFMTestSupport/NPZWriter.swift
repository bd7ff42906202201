import Foundation
import LightFMKit

/// Writes a COO matrix as `scipy.sparse.save_npz` does: an uncompressed zip of `row.npy`
/// (int32), `col.npy` (int32), `data.npy` (float32), `shape.npy` (int64, 2) and `format.npy`
/// (`|S3` "coo"), readable by `scipy.sparse.load_npz`.
///
/// Zip entries are stored (method 0) with CRC-32; files over 4 GiB are refused (no Zip64).
/// For benchmarks and tests (`lightfm-bench export-synthetic`); the library reads `.npz` through
/// `NPZ`.
public enum NPZWriter {
  public static func writeCOO(_ m: COOMatrix, to url: URL) throws {
    var zip = ZipBuilder()
    zip.add("row.npy", npy(descr: "<i4", shape: [m.nnz], payload: bytes(of: m.rowIndices)))
    zip.add("col.npy", npy(descr: "<i4", shape: [m.nnz], payload: bytes(of: m.columnIndices)))
    zip.add("data.npy", npy(descr: "<f4", shape: [m.nnz], payload: bytes(of: m.values)))
    zip.add(
      "shape.npy",
      npy(descr: "<i8", shape: [2], payload: bytes(of: [Int64(m.shape.rows), Int64(m.shape.columns)])))
    zip.add("format.npy", npy(descr: "|S3", shape: [], payload: Array("coo".utf8)))
    let data = try zip.finish()
    try data.write(to: url, options: .atomic)
  }

  /// A `.npy` (format 1.0) file: magic, header dict padded to a multiple of 64, payload.
  static func npy(descr: String, shape: [Int], payload: [UInt8]) -> [UInt8] {
    let shapeText =
      shape.isEmpty
      ? "()" : shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    let length = UInt16(header.utf8.count)
    out += [UInt8(length & 0xFF), UInt8(length >> 8)]
    out += Array(header.utf8)
    out += payload
    return out
  }

  /// The little-endian bytes of an array of fixed-width numbers.
  static func bytes<T: BitwiseCopyable>(of values: [T]) -> [UInt8] {
    values.withUnsafeBytes { Array($0) }
  }
}

/// A minimal zip writer: stored entries, local headers, central directory, end record.
struct ZipBuilder {
  private var body: [UInt8] = []
  private var central: [UInt8] = []
  private var count = 0

  mutating func add(_ name: String, _ content: [UInt8]) {
    let crc = CRC32.checksum(content)
    let offset = body.count
    let nameBytes = Array(name.utf8)
    func header(_ signature: UInt32, central: Bool) -> [UInt8] {
      var h: [UInt8] = []
      h.le32(signature)
      if central { h.le16(20) }  // version made by
      h.le16(20)  // version needed
      h.le16(0)  // flags
      h.le16(0)  // method: stored
      h.le16(0)  // time
      h.le16(0x21)  // date: 1980-01-01
      h.le32(crc)
      h.le32(UInt32(truncatingIfNeeded: content.count))
      h.le32(UInt32(truncatingIfNeeded: content.count))
      h.le16(UInt16(nameBytes.count))
      h.le16(0)  // extra length
      if central {
        h.le16(0)  // comment length
        h.le16(0)  // disk number
        h.le16(0)  // internal attributes
        h.le32(0)  // external attributes
        h.le32(UInt32(truncatingIfNeeded: offset))
      }
      return h + nameBytes
    }
    body += header(0x0403_4B50, central: false)
    body += content
    central += header(0x0201_4B50, central: true)
    count += 1
  }

  func finish() throws -> Data {
    guard body.count + central.count < Int(UInt32.max) else {
      throw LightFMError.invalidData("the .npz would exceed 4 GiB; this writer has no Zip64")
    }
    var end: [UInt8] = []
    end.le32(0x0605_4B50)
    end.le16(0)
    end.le16(0)
    end.le16(UInt16(count))
    end.le16(UInt16(count))
    end.le32(UInt32(central.count))
    end.le32(UInt32(body.count))
    end.le16(0)
    return Data(body + central + end)
  }
}

extension [UInt8] {
  fileprivate mutating func le16(_ v: UInt16) {
    append(UInt8(v & 0xFF))
    append(UInt8(v >> 8))
  }

  fileprivate mutating func le32(_ v: UInt32) {
    for s in stride(from: 0, to: 32, by: 8) { append(UInt8((v >> UInt32(s)) & 0xFF)) }
  }
}
