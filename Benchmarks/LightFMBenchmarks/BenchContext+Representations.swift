import LightFMKit
import _LightFMTestSupport

extension BenchContext {
  /// `representations`: R = F·E for sparse item features, one thread.
  ///
  /// Two feature layouts over the synthetic catalog:
  /// - hybrid: identity + the planted cluster tag + 3 random tags of 1000, rows normalised
  ///   (5 non-zeros per row, items + 1000 features): SIMD axpy per non-zero (the library's loop)
  ///   vs `cblas_saxpy` per non-zero;
  /// - tags only: 64 tag features, 8 per item: the sparse SIMD loop vs densifying F and one
  ///   `cblas_sgemm` (the dense path pays for building the dense F inside the timing).
  ///
  /// Rates: rows/s and GFLOP/s (2·d flops per non-zero for the sparse loops, 2·rows·features·d
  /// for the dense GEMM).
  func runRepresentations() throws {
    let set = try workloads.synthetic(harness)
    let items = set.data.configuration.items
    let d = components
    try KernelProbes.withBLASThreads(1) {
      let hybrid = hybridFeatures(set.data, tags: 1000, randomTags: 3)
      let hybridE = randomFloats(hybrid.shape.columns * d, scale: 0.1, seed: 21)
      let hybridRates = [
        ("rows/s", Double(items)), ("GFLOP/s", 2 * Double(hybrid.nnz * d) / 1e9),
      ]
      let label = "\(items) items, \(hybrid.shape.columns) features, nnz \(hybrid.nnz), d=\(d)"
      var checks: [Float] = []
      for (name, axpy) in [("simd axpy", KernelProbes.simdAxpy), ("blas axpy", KernelProbes.blasAxpy)] {
        var out: [Float] = []
        try harness.measure("representations", "hybrid \(name): \(label)", rates: hybridRates) {
          out = sparseTimesDense(hybrid, hybridE, d: d, axpy: axpy)
        }
        checks.append(out.reduce(0, +))
      }

      let tagCount = 64
      let tags = tagFeatures(items: items, tags: tagCount, perItem: 8, seed: 31)
      let tagE = randomFloats(tagCount * d, scale: 0.1, seed: 32)
      let tagLabel = "\(items) items, \(tagCount) features, nnz \(tags.nnz), d=\(d)"
      var out: [Float] = []
      try harness.measure(
        "representations", "tags simd axpy: \(tagLabel)",
        rates: [("rows/s", Double(items)), ("GFLOP/s", 2 * Double(tags.nnz * d) / 1e9)]
      ) {
        out = sparseTimesDense(tags, tagE, d: d, axpy: KernelProbes.simdAxpy)
      }
      checks.append(out.reduce(0, +))
      try harness.measure(
        "representations", "tags dense sgemm: \(tagLabel)",
        rates: [("rows/s", Double(items)), ("GFLOP/s", 2 * Double(items * tagCount * d) / 1e9)],
        note: "densify F + sgemm"
      ) {
        out = denseTimesDense(tags, tagE, d: d)
      }
      checks.append(out.reduce(0, +))
      harness.fact(
        "representations",
        "checksums (Σ R) hybrid simd/blas \(checks[0])/\(checks[1]), "
          + "tags sparse/dense \(checks[2])/\(checks[3])")
    }
    try runLibraryRepresentations(set: set)
  }

  /// Identity + cluster tag + `randomTags` random tags per item, rows L1-normalised.
  func hybridFeatures(_ data: Synthetic.DataSet, tags: Int, randomTags: Int) -> CSRMatrix {
    let items = data.configuration.items
    let clusters = data.configuration.clusters
    var rng = SplitMix64(seed: 77)
    var rows: [Int32] = []
    var cols: [Int32] = []
    for i in 0..<items {
      var row: Set<Int32> = [Int32(i), Int32(items + Int(data.itemClusters[i]) % tags)]
      while row.count < 2 + randomTags {
        row.insert(Int32(items + clusters + Int(rng.next() % UInt64(tags - clusters))))
      }
      for c in row.sorted() {
        rows.append(Int32(i))
        cols.append(c)
      }
    }
    let coo = try! COOMatrix(
      rows: items, columns: items + tags, rowIndices: rows, columnIndices: cols,
      values: [Float](repeating: 1, count: rows.count))
    return try! CSRMatrix(coo).l1Normalized()
  }

  /// `perItem` distinct random tags of `tags` per item, rows L1-normalised.
  func tagFeatures(items: Int, tags: Int, perItem: Int, seed: UInt64) -> CSRMatrix {
    var rng = SplitMix64(seed: seed)
    var rows: [Int32] = []
    var cols: [Int32] = []
    for i in 0..<items {
      var row = Set<Int32>()
      while row.count < perItem { row.insert(Int32(rng.next() % UInt64(tags))) }
      for c in row.sorted() {
        rows.append(Int32(i))
        cols.append(c)
      }
    }
    let coo = try! COOMatrix(
      rows: items, columns: tags, rowIndices: rows, columnIndices: cols,
      values: [Float](repeating: 1, count: rows.count))
    return try! CSRMatrix(coo).l1Normalized()
  }
}

/// R = F·E row by row: for each non-zero x_rf, R_r += x_rf · E_f with the given axpy.
func sparseTimesDense(
  _ f: CSRMatrix, _ e: [Float], d: Int,
  axpy: (Float, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
) -> [Float] {
  var out = [Float](repeating: 0, count: f.shape.rows * d)
  out.withUnsafeMutableBufferPointer { o in
    e.withUnsafeBufferPointer { eb in
      f.rowPointers.withUnsafeBufferPointer { ptr in
        f.columnIndices.withUnsafeBufferPointer { col in
          f.values.withUnsafeBufferPointer { val in
            for r in 0..<f.shape.rows {
              let target = o.baseAddress! + r * d
              for n in ptr[r]..<ptr[r + 1] {
                axpy(val[n], eb.baseAddress! + Int(col[n]) * d, target, d)
              }
            }
          }
        }
      }
    }
  }
  return out
}

/// R = F·E by densifying F and one `cblas_sgemm` (F rows × features, E features × d).
func denseTimesDense(_ f: CSRMatrix, _ e: [Float], d: Int) -> [Float] {
  let rows = f.shape.rows
  let features = f.shape.columns
  var dense = [Float](repeating: 0, count: rows * features)
  dense.withUnsafeMutableBufferPointer { dn in
    for r in 0..<rows {
      for n in f.rowPointers[r]..<f.rowPointers[r + 1] {
        dn[r * features + Int(f.columnIndices[n])] = f.values[n]
      }
    }
  }
  // E is features × d; as "B" of A·Bᵀ we need it d × features, so transpose E once (tiny).
  var et = [Float](repeating: 0, count: d * features)
  for fIndex in 0..<features {
    for j in 0..<d { et[j * features + fIndex] = e[fIndex * d + j] }
  }
  var out = [Float](repeating: 0, count: rows * d)
  dense.withUnsafeBufferPointer { a in
    et.withUnsafeBufferPointer { b in
      out.withUnsafeMutableBufferPointer { c in
        KernelProbes.sgemmABt(
          m: rows, n: d, k: features, a: a.baseAddress!, lda: features,
          b: b.baseAddress!, ldb: features, c: c.baseAddress!, ldc: d)
      }
    }
  }
  return out
}

extension BenchContext {
  /// The library's `itemRepresentations(features:)` on the hybrid features (a model built with
  /// them through a 1-epoch fit on a small slice of the interactions: only the parameter shapes
  /// matter here).
  func runLibraryRepresentations(set: Workloads.SyntheticSet) throws {
    let hybrid = hybridFeatures(set.data, tags: 1000, randomTags: 3)
    let train = set.data.train
    let slice = min(train.nnz, 10_000)
    let small = try COOMatrix(
      rows: train.shape.rows, columns: train.shape.columns,
      rowIndices: Array(train.rowIndices.prefix(slice)),
      columnIndices: Array(train.columnIndices.prefix(slice)),
      values: Array(train.values.prefix(slice)))
    var model = LightFM(noComponents: components, loss: .warp, randomState: 7)
    try model.fit(small, itemFeatures: hybrid, epochs: 1)
    let label = "\(hybrid.shape.rows) items, \(hybrid.shape.columns) features, nnz \(hybrid.nnz), d=\(components)"
    try harness.measure(
      "representations", "hybrid library itemRepresentations: \(label)",
      rates: [
        ("rows/s", Double(hybrid.shape.rows)), ("GFLOP/s", 2 * Double(hybrid.nnz * components) / 1e9),
      ]
    ) {
      _ = try model.itemRepresentations(features: hybrid)
    }
  }
}
