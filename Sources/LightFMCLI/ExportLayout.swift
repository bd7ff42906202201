import Foundation
import LightFMKit

/// The directory layout `lightfm export` writes, `lightfm import` reads and
/// `scripts/export-from-lightfm.py` writes from a fitted Python LightFM.
///
/// - `{user,item}_embeddings.npy`, `{user,item}_biases.npy` and the optimiser state under the
///   Python LightFM's attribute names (`LightFM.numpyArrays()`).
/// - `{user,item}_ids.txt` and `{user,item}_features.txt`: one id or feature name per line, in
///   index order (with identity features the ids come first among the features, as in
///   LightFM's `Dataset`).
/// - `{user,item}_feature_matrix.npz`: the scipy sparse feature matrix the model was trained
///   with (users or items × features), only when it is not the identity.
/// - `model.json`: hyper-parameters and shapes.
enum ExportLayout {
  static let format = "lightfm-export-1"

  static func featureMatrixName(_ side: Side) -> String { "\(side)_feature_matrix.npz" }

  /// Writes `m` as `scipy.sparse.save_npz` writes a CSR matrix: an uncompressed zip of
  /// `indices.npy`, `indptr.npy`, `format.npy`, `shape.npy` and `data.npy`.
  static func writeNPZ(_ m: CSRMatrix, to url: URL) throws {
    let pointers = m.rowPointers.map(Int64.init)
    let shape = [Int64(m.shape.rows), Int64(m.shape.columns)]
    let members: [(String, NumpyArray)] = [
      ("indices", NumpyArray(shape: [m.nnz], elements: .int32(m.columnIndices))),
      ("indptr", NumpyArray(shape: [pointers.count], elements: .int64(pointers))),
      ("format", NumpyArray(shape: [], elements: .strings(["csr"]))),
      ("shape", NumpyArray(shape: [2], elements: .int64(shape))),
      ("data", NumpyArray(m.values)),
    ]
    let zip = storedZip(members.map { ($0.0 + ".npy", $0.1.npyBytes()) })
    try AtomicFileWriter.write(zip, to: url)
  }

  /// A zip archive of `entries`, stored without compression (method 0), with CRC-32s.
  static func storedZip(_ entries: [(name: String, bytes: [UInt8])]) -> [UInt8] {
    var out: [UInt8] = []
    var central: [UInt8] = []
    func le16(_ x: Int, _ b: inout [UInt8]) { b += [UInt8(x & 0xFF), UInt8((x >> 8) & 0xFF)] }
    func le32(_ x: Int, _ b: inout [UInt8]) {
      for shift in stride(from: 0, to: 32, by: 8) { b.append(UInt8((x >> shift) & 0xFF)) }
    }
    for (name, bytes) in entries {
      let crc = Int(CRC32.checksum(bytes))
      let nameBytes = Array(name.utf8)
      let offset = out.count
      // Version 2.0, no flags, stored, 1980-01-01 00:00, then CRC and sizes.
      var common: [UInt8] = []
      le16(20, &common)
      le16(0, &common)
      le16(0, &common)
      le16(0, &common)
      le16(0x21, &common)
      le32(crc, &common)
      le32(bytes.count, &common)
      le32(bytes.count, &common)
      le16(nameBytes.count, &common)
      le16(0, &common)
      le32(0x0403_4B50, &out)
      out += common + nameBytes + bytes
      le32(0x0201_4B50, &central)
      le16(20, &central)
      central += common
      le16(0, &central)  // comment
      le16(0, &central)  // disk
      le16(0, &central)  // internal attributes
      le32(0, &central)  // external attributes
      le32(offset, &central)
      central += nameBytes
    }
    let centralOffset = out.count
    out += central
    le32(0x0605_4B50, &out)
    le16(0, &out)
    le16(0, &out)
    le16(entries.count, &out)
    le16(entries.count, &out)
    le32(central.count, &out)
    le32(centralOffset, &out)
    le16(0, &out)
    return out
  }
}
