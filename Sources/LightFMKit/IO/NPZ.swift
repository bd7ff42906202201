import Foundation

/// Reads numpy `.npz` archives and the scipy sparse matrices stored in them.
///
/// `scipy.sparse.save_npz` writes `format` (`b'coo'`, `b'csr'` or `b'csc'`), `shape`, `data` and
/// either `row`/`col` (COO, or `coords` in newer scipy) or `indices`/`indptr` (CSR/CSC), through
/// `numpy.savez_compressed` (deflate) or `numpy.savez` (stored). Both are read.
public enum NPZ {
  /// Every array in an `.npz` archive, by name (without the `.npy` suffix).
  ///
  /// - Throws: `LightFMError` naming the file and member for anything unreadable.
  public static func readArrays(from url: URL) throws -> [String: NumpyArray] {
    let archive = try archive(url)
    var arrays: [String: NumpyArray] = [:]
    for name in archive.names {
      let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
      arrays[key] = try NumpyArray(
        npyBytes: try archive.data(of: name) ?? [], file: "\(url.path) (member \(name))")
    }
    return arrays
  }

  /// Reads a scipy sparse matrix (COO, CSR or CSC) as a `COOMatrix` in row-major entry order.
  ///
  /// Values are converted to `Float`; repeated coordinates are kept as stored.
  /// - Throws: `LightFMError` naming the file when it is not a sparse matrix saved by scipy, an
  ///   index lies outside the shape, or a value is not finite.
  public static func readSparseMatrix(from url: URL) throws -> COOMatrix {
    try readSparseMatrix(bytes: try readFileBytes(url), file: url.path)
  }

  /// Reads a scipy sparse matrix from the bytes of an `.npz` file; `file` names it in errors.
  static func readSparseMatrix(bytes: [UInt8], file: String) throws -> COOMatrix {
    guard !bytes.isEmpty else { throw LightFMError(.parse, "\(file): the file is empty") }
    let archive = try ZipArchive(bytes: bytes, file: file)
    func array(_ name: String) throws -> NumpyArray {
      guard let bytes = try archive.data(of: name + ".npy") else {
        throw LightFMError(
          .parse,
          "\(file): no '\(name)' array; expected a sparse matrix saved by scipy.sparse.save_npz "
            + "(it holds \(archive.names.joined(separator: ", ")))")
      }
      return try NumpyArray(npyBytes: bytes, file: "\(file) (member \(name).npy)")
    }
    func fail(_ message: String) -> LightFMError { LightFMError(.parse, "\(file): \(message)") }

    let formatArray = try array("format")
    guard case .strings(let formats) = formatArray.elements, formats.count == 1 else {
      throw fail("'format' is not a string")
    }
    let format = formats[0]
    let shape = try array("shape").integerValues("\(file): 'shape'")
    guard shape.count == 2, shape[0] >= 0, shape[1] >= 0,
      shape[0] <= Int(Int32.max), shape[1] <= Int(Int32.max)
    else {
      throw fail("'shape' is \(shape), expected two dimensions in 0...\(Int32.max)")
    }
    let (rows, columns) = (shape[0], shape[1])
    let values: [Float]
    do {
      values = try array("data").floatValues("'data'")
    } catch let error as LightFMError {
      throw fail(error.message)
    }

    func indices(_ name: String, below bound: Int, what: String) throws -> [Int32] {
      let raw = try array(name).integerValues("\(file): '\(name)'")
      for (n, v) in raw.enumerated() where v < 0 || v >= bound {
        throw fail("\(what) index \(v) at entry \(n) of '\(name)' is outside 0..<\(bound)")
      }
      return raw.map { Int32($0) }
    }
    func pointers(_ count: Int, nnz: Int) throws -> [Int] {
      let p = try array("indptr").integerValues("\(file): 'indptr'")
      guard p.count == count + 1, p.first == 0, p.last == nnz else {
        throw fail(
          "'indptr' has \(p.count) entries from \(p.first ?? -1) to \(p.last ?? -1), "
            + "expected \(count + 1) from 0 to nnz = \(nnz)")
      }
      for n in 0..<count where p[n] > p[n + 1] {
        throw fail("'indptr' decreases at \(n): \(p[n]) > \(p[n + 1])")
      }
      return p
    }

    switch format {
    case "coo":
      let rowIndices: [Int32]
      let columnIndices: [Int32]
      if archive.names.contains("coords.npy") {
        let coords = try array("coords")
        let flat = try coords.integerValues("\(file): 'coords'")
        guard coords.shape.count == 2, coords.shape[0] == 2 else {
          throw fail("'coords' has shape \(coords.shape), expected (2, nnz)")
        }
        let nnz = coords.shape[1]
        rowIndices = try checked(Array(flat[0..<nnz]), below: rows, what: "row", fail: fail)
        columnIndices = try checked(
          Array(flat[nnz...]), below: columns, what: "column", fail: fail)
      } else {
        rowIndices = try indices("row", below: rows, what: "row")
        columnIndices = try indices("col", below: columns, what: "column")
      }
      guard rowIndices.count == values.count, columnIndices.count == values.count else {
        throw fail(
          "COO arrays differ in length: \(rowIndices.count) rows, \(columnIndices.count) "
            + "columns, \(values.count) values")
      }
      return try COOMatrix(
        rows: rows, columns: columns, rowIndices: rowIndices, columnIndices: columnIndices,
        values: values)
    case "csr", "csc":
      // Compressed along rows (CSR) or columns (CSC): expand the pointers to major indices.
      let isCSR = format == "csr"
      let (major, minor) = isCSR ? (rows, columns) : (columns, rows)
      let minorIndices = try indices("indices", below: minor, what: isCSR ? "column" : "row")
      guard minorIndices.count == values.count else {
        throw fail("'indices' has \(minorIndices.count) entries, 'data' \(values.count)")
      }
      let p = try pointers(major, nnz: values.count)
      var majorIndices = [Int32](repeating: 0, count: values.count)
      for m in 0..<major { for n in p[m]..<p[m + 1] { majorIndices[n] = Int32(m) } }
      let matrix = try COOMatrix(
        rows: rows, columns: columns,
        rowIndices: isCSR ? majorIndices : minorIndices,
        columnIndices: isCSR ? minorIndices : majorIndices, values: values)
      // CSC goes back to row-major entry order, keeping repeats.
      return isCSR ? matrix : COOMatrix(matrix.toCSR(sumDuplicates: false))
    default:
      throw fail(
        "sparse format '\(format)' is not supported; save the matrix as COO, CSR or CSC")
    }
  }

  private static func checked(
    _ values: [Int], below bound: Int, what: String,
    fail: (String) -> LightFMError
  ) throws -> [Int32] {
    for (n, v) in values.enumerated() where v < 0 || v >= bound {
      throw fail("\(what) index \(v) at entry \(n) of 'coords' is outside 0..<\(bound)")
    }
    return values.map { Int32($0) }
  }

  private static func archive(_ url: URL) throws -> ZipArchive {
    let bytes = try readFileBytes(url)
    guard !bytes.isEmpty else { throw LightFMError(.parse, "\(url.path): the file is empty") }
    return try ZipArchive(bytes: bytes, file: url.path)
  }
}
