import LightFMKit
import _LightFMTestSupport

extension BenchContext {
  /// `foldin`: closed-form embeddings for users who arrived after training
  /// (`LightFM.foldInRepresentations`), at d = 32 and 64, on 1 thread and on all threads.
  ///
  /// The synthetic set's first tenth of users (at most 10,000) is held out of training; a WARP
  /// model is fitted for one epoch on the rest (the fold-in's speed does not depend on how well
  /// the items are trained), then the held-out users are folded in from their training rows.
  /// Each run is one batch call: QᵀQ (one `ssyrk` over the catalog) plus one rank-|P_u| `ssyrk`
  /// and one d × d `sposv` per user. Rates: users/s, and GFLOP/s counted as
  /// n·d² + Σ_u (|P_u|·d² + d³/3).
  func runFoldIn() throws {
    let set = try workloads.synthetic(harness)
    let users = set.data.configuration.users
    let items = set.data.configuration.items
    let newUsers = max(1, min(10_000, users / 10))
    let train = set.data.train
    var rows: [Int32] = []
    var columns: [Int32] = []
    for n in 0..<train.nnz where Int(train.rowIndices[n]) >= newUsers {
      rows.append(train.rowIndices[n])
      columns.append(train.columnIndices[n])
    }
    let kept = try COOMatrix(
      rows: users, columns: items, rowIndices: rows, columnIndices: columns,
      values: [Float](repeating: 1, count: rows.count))
    var pointers = Array(set.trainCSR.rowPointers[0...newUsers])
    pointers[0] = 0
    let entries = pointers[newUsers]
    let arrivals = try CSRMatrix(
      rows: newUsers, columns: items, rowPointers: pointers,
      columnIndices: Array(set.trainCSR.columnIndices[0..<entries]),
      values: [Float](repeating: 1, count: entries))
    let meanRow = Double(entries) / Double(newUsers)
    for d in [32, 64] {
      var model = LightFM(noComponents: d, loss: .warp, randomState: 7)
      let fitSeconds = try secondsOf {
        try model.fit(kept, epochs: 1, numThreads: threads)
      }
      harness.fact(
        "foldin",
        String(
          format: "d=%d: fitted 1 epoch on %d users in %.1f s; folding in %d users, "
            + "%.1f interactions each on average", d, users - newUsers, fitSeconds, newUsers,
          meanRow))
      let dd = Double(d)
      let flops = Double(items) * dd * dd + Double(entries) * dd * dd
        + Double(newUsers) * dd * dd * dd / 3
      for t in Set([1, threads]).sorted() {
        var options = FoldInOptions()
        options.numThreads = t
        var checksum: Float = 0
        try harness.measure(
          "foldin", "\(newUsers) users × \(items) items d=\(d) t=\(t)",
          rates: [("users/s", Double(newUsers)), ("GFLOP/s", flops / 1e9)]
        ) {
          let reps = try model.foldInRepresentations(interactions: arrivals, options: options)
          checksum = reps.embeddings.reduce(0, +)
        }
        guard checksum.isFinite else {
          harness.fact("foldin", "d=\(d) t=\(t): non-finite embeddings")
          continue
        }
      }
    }
  }
}
