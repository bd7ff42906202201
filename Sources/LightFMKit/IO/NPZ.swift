import Foundation

/// Reads numpy `.npz` archives and the scipy sparse matrices stored in them.
///
/// `scipy.sparse.save_npz` writes `format` (`b'coo'`, `b'csr'` or `b'csc'`), `shape`, `data` and
/// either `row`/`col` (COO, or `coords` in newer scipy) or `indices`/`indptr` (CSR/CSC), through
/// `numpy.savez_compressed` (deflate) or `numpy.savez` (stored). Both are read.
///
/// Members are inflated (by zlib) straight into the arrays that hold them. Every size the file
/// declares is checked before it is allocated: against what the compressed data can expand to,
/// against the array's own header, and against the memory budget (`LoadLimits`), so a hostile
/// or damaged archive is refused with an error that says why.
public enum NPZ {
  /// Every array in an `.npz` archive, by name (without the `.npy` suffix).
  ///
  /// - Throws: `LightFMError` naming the file and member for anything unreadable, or when the
  ///   arrays together need more memory than `limits` allows.
  public static func readArrays(
    from url: URL, limits: LoadLimits = .default
  ) throws -> [String: NumpyArray] {
    try readArrays(archive: try archive(url, limits: limits), limits: limits)
  }

  /// Every array in the `.npz` held in `bytes`; `file` names it in errors.
  public static func readArrays(
    bytes: [UInt8], file: String, limits: LoadLimits = .default
  ) throws -> [String: NumpyArray] {
    try readArrays(archive: try ZipArchive(bytes: bytes, file: file), limits: limits)
  }

  private static func readArrays(
    archive: ZipArchive, limits: LoadLimits
  ) throws -> [String: NumpyArray] {
    var reader = ArrayReader(archive: archive, limits: limits)
    var arrays: [String: NumpyArray] = [:]
    for entry in archive.entries {
      let key = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
      arrays[key] = try reader.read(entry)
    }
    return arrays
  }

  /// Reads a scipy sparse matrix (COO, CSR or CSC) as a `COOMatrix` in row-major entry order.
  ///
  /// Values are converted to `Float`; repeated coordinates are kept as stored.
  /// - Throws: `LightFMError` naming the file when it is not a sparse matrix saved by scipy, an
  ///   index lies outside the shape, a value is not finite, or the matrix needs more memory than
  ///   `limits` allows.
  public static func readSparseMatrix(
    from url: URL, limits: LoadLimits = .default
  ) throws -> COOMatrix {
    try readSparseMatrix(archive: try archive(url, limits: limits), limits: limits)
  }

  /// Reads a scipy sparse matrix from the bytes of an `.npz` file; `file` names it in errors.
  public static func readSparseMatrix(
    bytes: [UInt8], file: String, limits: LoadLimits = .default
  ) throws -> COOMatrix {
    try readSparseMatrix(archive: try ZipArchive(bytes: bytes, file: file), limits: limits)
  }

  /// Reads the members of one archive within one budget.
  private struct ArrayReader {
    let archive: ZipArchive
    let limits: LoadLimits
    var used = 0

    init(archive: ZipArchive, limits: LoadLimits) {
      self.archive = archive
      self.limits = limits
    }

    mutating func read(_ entry: ZipArchive.Entry) throws -> NumpyArray {
      let left = limits.maxBytes - used
      guard left > 0 else {
        throw LightFMError(
          .invalidData,
          "\(archive.file): the arrays before member '\(entry.name)' use the whole memory "
            + "budget of \(LoadLimits.describe(limits.maxBytes))")
      }
      let stream = try archive.open(entry)
      let array = try NumpyArray(
        stream: stream, file: "\(archive.file) (member \(entry.name))",
        limits: LoadLimits(maxBytes: left))
      try stream.finish()
      used += array.storageBytes
      return array
    }

    mutating func read(_ name: String) throws -> NumpyArray? {
      guard let entry = archive.entry(name + ".npy") else { return nil }
      return try read(entry)
    }

    /// The header of member `name.npy` (its shape and type), without reading its data;
    /// throws when the member is too small for the elements the header declares.
    func header(_ name: String) throws -> NumpyArray.Header? {
      guard let entry = archive.entry(name + ".npy") else { return nil }
      let stream = try archive.open(entry)
      let file = "\(archive.file) (member \(entry.name))"
      let header = try NumpyArray.readHeader(stream, file: file)
      let size = try NumpyArray.itemSize(header.descr, fail: NumpyArray.failure(file))
      guard header.count <= stream.remaining / size else {
        throw NumpyArray.failure(file)(
          "truncated: the header declares \(header.count) elements of \(header.descr), the "
            + "member holds \(stream.remaining) bytes of data")
      }
      return header
    }
  }

  /// The shape and entry count of a scipy sparse matrix, read from the small `format` and
  /// `shape` arrays and the headers of the others, without reading their data: to judge what
  /// loading it will take.
  ///
  /// - Throws: `LightFMError` naming the file when it is not a sparse matrix saved by scipy or
  ///   its arrays disagree with each other.
  public static func sparseMatrixSize(
    from url: URL
  ) throws -> (rows: Int, columns: Int, nnz: Int) {
    let archive = try archive(url, limits: .default)
    var reader = ArrayReader(archive: archive, limits: .default)
    let layout = try SparseLayout(archive: archive, reader: &reader)
    return (layout.rows, layout.columns, layout.nnz)
  }

  /// What a sparse matrix archive declares: its format, shape and entry count, checked across
  /// the members' headers.
  private struct SparseLayout {
    let format: String
    let rows: Int
    let columns: Int
    let nnz: Int

    init(archive: ZipArchive, reader: inout ArrayReader) throws {
      let file = archive.file
      func array(_ name: String) throws -> NumpyArray {
        guard let array = try reader.read(name) else { throw missing(name, archive) }
        return array
      }
      func fail(_ message: String) -> LightFMError { LightFMError(.parse, "\(file): \(message)") }
      let formatArray = try array("format")
      guard case .strings(let formats) = formatArray.elements, formats.count == 1 else {
        throw fail("'format' is not a string")
      }
      format = formats[0]
      guard ["coo", "csr", "csc"].contains(format) else {
        throw fail(
          "sparse format '\(format)' is not supported; save the matrix as COO, CSR or CSC")
      }
      let shape = try array("shape").integerValues("\(file): 'shape'")
      guard shape.count == 2, shape[0] >= 0, shape[1] >= 0,
        shape[0] <= Int(Int32.max), shape[1] <= Int(Int32.max)
      else {
        throw fail("'shape' is \(shape), expected two dimensions in 0...\(Int32.max)")
      }
      (rows, columns) = (shape[0], shape[1])
      // Check the arrays' headers against each other (and each against its member's size)
      // before any of their data is read.
      let names =
        format == "coo"
        ? (archive.entry("coords.npy") != nil ? ["coords"] : ["row", "col"])
        : ["indices", "indptr"]
      var counts: [String: Int] = [:]
      for name in ["data"] + names {
        guard let header = try reader.header(name) else { throw missing(name, archive) }
        counts[name] = header.count
      }
      nnz = counts["data"] ?? 0
      let expected: [String: Int] =
        format == "coo"
        ? ["coords": 2 * nnz, "row": nnz, "col": nnz]
        : ["indices": nnz, "indptr": (format == "csr" ? rows : columns) + 1]
      for name in names where counts[name] != expected[name] {
        throw fail(
          "'\(name)' has \(counts[name] ?? 0) elements, expected \(expected[name] ?? 0) for a "
            + "\(rows) x \(columns) \(format) matrix with \(nnz) stored values")
      }
    }
  }

  private static func missing(_ name: String, _ archive: ZipArchive) -> LightFMError {
    LightFMError(
      .parse,
      "\(archive.file): no '\(name)' array; expected a sparse matrix saved by "
        + "scipy.sparse.save_npz (it holds \(archive.names.joined(separator: ", ")))")
  }

  private static func readSparseMatrix(
    archive: ZipArchive, limits: LoadLimits
  ) throws -> COOMatrix {
    let file = archive.file
    var reader = ArrayReader(archive: archive, limits: limits)
    func array(_ name: String) throws -> NumpyArray {
      guard let array = try reader.read(name) else { throw missing(name, archive) }
      return array
    }
    func fail(_ message: String) -> LightFMError { LightFMError(.parse, "\(file): \(message)") }
    let layout = try SparseLayout(archive: archive, reader: &reader)
    let (format, rows, columns, nnz) = (layout.format, layout.rows, layout.columns, layout.nnz)
    // The whole against the budget: the entries, and the pointers of the longer dimension when
    // the matrix is turned into CSR.
    let (rowBytes, o1) = (max(rows, columns) + 1).multipliedReportingOverflow(by: 8)
    let (entryBytes, o2) = nnz.multipliedReportingOverflow(by: 4 * 8)
    let (total, o3) = entryBytes.addingReportingOverflow(rowBytes)
    try limits.require(
      count: o1 || o2 || o3 ? Int.max : total, size: 1,
      "\(file): a \(rows) x \(columns) sparse matrix with \(nnz) stored entries")

    let values: [Float]
    do {
      values = try array("data").floatValues("'data'")
    } catch let error as LightFMError {
      throw fail(error.message)
    }

    switch format {
    case "coo":
      let rowIndices: [Int32]
      let columnIndices: [Int32]
      if archive.entry("coords.npy") != nil {
        let coords = try array("coords")
        guard coords.shape.count == 2, coords.shape[0] == 2 else {
          throw fail("'coords' has shape \(coords.shape), expected (2, nnz)")
        }
        let n = coords.shape[1]
        rowIndices = try int32Indices(
          coords, range: 0..<n, below: rows, what: "row", name: "coords", fail: fail)
        columnIndices = try int32Indices(
          coords, range: n..<(2 * n), below: columns, what: "column", name: "coords",
          fail: fail)
      } else {
        let r = try array("row")
        rowIndices = try int32Indices(
          r, range: 0..<r.count, below: rows, what: "row", name: "row", fail: fail)
        let c = try array("col")
        columnIndices = try int32Indices(
          c, range: 0..<c.count, below: columns, what: "column", name: "col", fail: fail)
      }
      guard rowIndices.count == values.count, columnIndices.count == values.count else {
        throw fail(
          "COO arrays differ in length: \(rowIndices.count) rows, \(columnIndices.count) "
            + "columns, \(values.count) values")
      }
      return try COOMatrix(
        rows: rows, columns: columns, rowIndices: rowIndices, columnIndices: columnIndices,
        values: values)
    default:
      // Compressed along rows (CSR) or columns (CSC): expand the pointers to major indices.
      let isCSR = format == "csr"
      let (major, minor) = isCSR ? (rows, columns) : (columns, rows)
      let indices = try array("indices")
      let minorIndices = try int32Indices(
        indices, range: 0..<indices.count, below: minor, what: isCSR ? "column" : "row",
        name: "indices", fail: fail)
      guard minorIndices.count == values.count else {
        throw fail("'indices' has \(minorIndices.count) entries, 'data' \(values.count)")
      }
      let p = try array("indptr").integerValues("\(file): 'indptr'")
      guard p.count == major + 1, p.first == 0, p.last == values.count else {
        throw fail(
          "'indptr' has \(p.count) entries from \(p.first ?? -1) to \(p.last ?? -1), "
            + "expected \(major + 1) from 0 to nnz = \(values.count)")
      }
      for n in 0..<major where p[n] > p[n + 1] {
        throw fail("'indptr' decreases at \(n): \(p[n]) > \(p[n + 1])")
      }
      var majorIndices = [Int32](repeating: 0, count: values.count)
      for m in 0..<major { for n in p[m]..<p[m + 1] { majorIndices[n] = Int32(m) } }
      let matrix = try COOMatrix(
        rows: rows, columns: columns,
        rowIndices: isCSR ? majorIndices : minorIndices,
        columnIndices: isCSR ? minorIndices : majorIndices, values: values)
      // CSC goes back to row-major entry order, keeping repeats.
      return isCSR ? matrix : COOMatrix(matrix.toCSR(sumDuplicates: false))
    }
  }

  /// Elements `range` of an integer array as `Int32` indices in `0..<bound`, converted without
  /// an intermediate copy.
  private static func int32Indices(
    _ array: NumpyArray, range: Range<Int>, below bound: Int, what: String, name: String,
    fail: (String) -> LightFMError
  ) throws -> [Int32] {
    func check(_ v: Int, _ n: Int) throws -> Int32 {
      guard v >= 0, v < bound else {
        throw fail("\(what) index \(v) at entry \(n) of '\(name)' is outside 0..<\(bound)")
      }
      return Int32(v)
    }
    switch array.elements {
    case .int32(let v):
      for n in range { _ = try check(Int(v[n]), n) }
      return range == 0..<v.count ? v : Array(v[range])
    case .int64(let v):
      return try range.map { try check(Int(v[$0]), $0) }
    case .bool(let v):
      return try range.map { try check(v[$0] ? 1 : 0, $0) }
    case .float32, .float64, .strings:
      throw fail("'\(name)' has type \(array.descr), expected integers")
    }
  }

  /// Opens the archive at `url`, read from the file at offsets (or whole, for a pipe).
  private static func archive(_ url: URL, limits: LoadLimits) throws -> ZipArchive {
    let input = try InputFile(path: url.path)
    if let size = input.size {
      return try ZipArchive(source: .file(input, size: size), file: url.path)
    }
    return try ZipArchive(bytes: try input.readAll(limits: limits), file: url.path)
  }
}
