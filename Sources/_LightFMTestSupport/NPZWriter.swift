import Foundation
import LightFMKit

/// Writes a COO matrix as `scipy.sparse.save_npz` does: an uncompressed zip of `row.npy`
/// (int32), `col.npy` (int32), `data.npy` (float32), `shape.npy` (int64, 2) and `format.npy`
/// (`|S3` "coo"), readable by `scipy.sparse.load_npz`.
///
/// Entries are stored (method 0) with CRC-32 by `ZipFixture`; files over 4 GiB are refused (no
/// Zip64). For benchmarks and tests (`lightfm-bench export-synthetic`); the library reads `.npz` through
/// `NPZ`.
public enum NPZWriter {
  public static func writeCOO(_ m: COOMatrix, to url: URL) throws {
    var zip = ZipFixture()
    func add(_ name: String, descr: String, shape: [Int], payload: [UInt8]) {
      zip.add(name, [.bytes(ZipFixture.npyHeader(descr: descr, shape: shape)), .bytes(payload)])
    }
    add("row.npy", descr: "<i4", shape: [m.nnz], payload: bytes(of: m.rowIndices))
    add("col.npy", descr: "<i4", shape: [m.nnz], payload: bytes(of: m.columnIndices))
    add("data.npy", descr: "<f4", shape: [m.nnz], payload: bytes(of: m.values))
    add(
      "shape.npy", descr: "<i8", shape: [2],
      payload: bytes(of: [Int64(m.shape.rows), Int64(m.shape.columns)]))
    add("format.npy", descr: "|S3", shape: [], payload: Array("coo".utf8))
    let archive = zip.bytes()
    guard archive.count < Int(UInt32.max) else {
      throw LightFMError.invalidData("the .npz would exceed 4 GiB; this writer has no Zip64")
    }
    try Data(archive).write(to: url, options: .atomic)
  }

  /// The little-endian bytes of an array of fixed-width numbers.
  static func bytes<T: BitwiseCopyable>(of values: [T]) -> [UInt8] {
    values.withUnsafeBytes { Array($0) }
  }
}
