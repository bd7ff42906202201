// MARK: - COO → CSR

extension CSRMatrix {
  /// Converts a COO matrix to CSR, sorting columns within each row.
  ///
  /// - Parameters:
  ///   - coo: the source matrix.
  ///   - sumDuplicates: when `true` (the default, as scipy's `tocsr`), entries with the same
  ///     coordinate are added into one; when `false` they are all kept, in their COO order.
  /// - Complexity: O(nnz + rows) plus the sort of each row.
  public init(_ coo: COOMatrix, sumDuplicates: Bool = true) throws {
    self = CSRMatrix.converting(coo, sumDuplicates: sumDuplicates)
  }

  /// The conversion behind `init(_:sumDuplicates:)`: entries in row-major order, columns
  /// sorted within a row and equal columns in their COO order.
  ///
  /// A COO already in that order (from a CSR matrix or a sorted file) is taken as it is;
  /// otherwise a stable counting sort by column, then a stable scatter by row (an LSD radix
  /// sort) orders it without comparisons.
  /// - Complexity: O(nnz + rows + columns).
  static func converting(_ coo: COOMatrix, sumDuplicates: Bool) -> CSRMatrix {
    let rows = coo.shape.rows
    var pointers = [Int](repeating: 0, count: rows + 1)
    for r in coo.rowIndices { pointers[Int(r) + 1] += 1 }
    for r in 0..<rows { pointers[r + 1] += pointers[r] }
    var columns: [Int32]
    var values: [Float]
    if coo.isRowMajorSorted {
      columns = coo.columnIndices
      values = coo.values
    } else {
      var next = pointers
      columns = [Int32](repeating: 0, count: coo.nnz)
      values = [Float](repeating: 0, count: coo.nnz)
      for n in coo.columnOrder() {
        let r = Int(coo.rowIndices[n])
        let slot = next[r]
        next[r] += 1
        columns[slot] = coo.columnIndices[n]
        values[slot] = coo.values[n]
      }
    }
    guard sumDuplicates else {
      return CSRMatrix(
        uncheckedShape: coo.shape, rowPointers: pointers, columnIndices: columns, values: values)
    }
    var outPointers = [Int](repeating: 0, count: rows + 1)
    var write = 0
    for r in 0..<rows {
      let lo = pointers[r]
      let hi = pointers[r + 1]
      var n = lo
      while n < hi {
        let c = columns[n]
        var v = values[n]
        n += 1
        while n < hi && columns[n] == c {
          v += values[n]
          n += 1
        }
        columns[write] = c
        values[write] = v
        write += 1
      }
      outPointers[r + 1] = write
    }
    columns.removeLast(columns.count - write)
    values.removeLast(values.count - write)
    return CSRMatrix(
      uncheckedShape: coo.shape, rowPointers: outPointers, columnIndices: columns, values: values)
  }

  /// The transpose, as CSR.
  ///
  /// - Complexity: O(nnz + rows + columns).
  public func transposed() -> CSRMatrix {
    CSRMatrix.converting(COOMatrix(self).transposed(), sumDuplicates: false)
  }

  /// Each row divided by the sum of its absolute values (L1 normalisation).
  ///
  /// Empty rows stay empty.
  /// - Throws: `LightFMError` naming a row whose stored values are all zero, which cannot be
  ///   normalised.
  public func l1Normalized() throws -> CSRMatrix {
    var out = values
    for r in 0..<shape.rows {
      let lo = rowPointers[r]
      let hi = rowPointers[r + 1]
      guard lo < hi else { continue }
      var total: Float = 0
      for n in lo..<hi { total += abs(values[n]) }
      guard total > 0 else {
        throw LightFMError.invalidData("row \(r) sums to zero and cannot be normalised")
      }
      for n in lo..<hi { out[n] = values[n] / total }
    }
    return CSRMatrix(
      uncheckedShape: shape, rowPointers: rowPointers, columnIndices: columnIndices, values: out)
  }

  /// A dense copy, for small matrices and tests.
  public func toDense() -> [[Float]] {
    var dense = [[Float]](
      repeating: [Float](repeating: 0, count: shape.columns), count: shape.rows)
    for r in 0..<shape.rows {
      for n in rowPointers[r]..<rowPointers[r + 1] {
        dense[r][Int(columnIndices[n])] += values[n]
      }
    }
    return dense
  }
}

// MARK: - CSR → COO

extension COOMatrix {
  /// The entries of a CSR matrix in row-major order.
  public init(_ csr: CSRMatrix) {
    var rows = [Int32](repeating: 0, count: csr.nnz)
    for r in 0..<csr.shape.rows {
      for n in csr.rowPointers[r]..<csr.rowPointers[r + 1] { rows[n] = Int32(r) }
    }
    self.init(
      uncheckedShape: csr.shape, rowIndices: rows,
      columnIndices: csr.columnIndices, values: csr.values)
  }

  /// The transpose: rows and columns swapped, entries in the same order.
  public func transposed() -> COOMatrix {
    COOMatrix(
      uncheckedShape: MatrixShape(rows: shape.columns, columns: shape.rows),
      rowIndices: columnIndices, columnIndices: rowIndices, values: values)
  }

  /// Whether the entries are in row-major order with columns ascending within a row (equal
  /// coordinates allowed).
  var isRowMajorSorted: Bool {
    for n in 1..<max(nnz, 1) {
      let r0 = rowIndices[n - 1]
      let r1 = rowIndices[n]
      if r1 < r0 || (r1 == r0 && columnIndices[n] < columnIndices[n - 1]) { return false }
    }
    return true
  }

  /// The entry positions ordered by column, equal columns in their stored order (a counting
  /// sort).
  ///
  /// - Complexity: O(nnz + columns).
  func columnOrder() -> [Int] {
    var next = [Int](repeating: 0, count: shape.columns + 1)
    for c in columnIndices { next[Int(c) + 1] += 1 }
    for c in 0..<shape.columns { next[c + 1] += next[c] }
    var order = [Int](repeating: 0, count: nnz)
    for n in 0..<nnz {
      let c = Int(columnIndices[n])
      order[next[c]] = n
      next[c] += 1
    }
    return order
  }

  /// Converts to CSR (see `CSRMatrix.init(_:sumDuplicates:)`).
  public func toCSR(sumDuplicates: Bool = true) -> CSRMatrix {
    CSRMatrix.converting(self, sumDuplicates: sumDuplicates)
  }

  /// A dense copy (repeated coordinates are added), for small matrices and tests.
  public func toDense() -> [[Float]] {
    var dense = [[Float]](
      repeating: [Float](repeating: 0, count: shape.columns), count: shape.rows)
    for n in 0..<nnz { dense[Int(rowIndices[n])][Int(columnIndices[n])] += values[n] }
    return dense
  }

  /// The same matrix with repeated coordinates added together and entries in row-major order.
  public func summingDuplicates() -> COOMatrix { COOMatrix(toCSR(sumDuplicates: true)) }
}
