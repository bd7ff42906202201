import Foundation
import LightFMKit

extension BenchContext {
  /// `loading`: a text file of `lines` lines `user<TAB>item<TAB>rating<TAB>timestamp` (written
  /// once into `loadingDirectory`), read by the streaming reader into id maps and a COO matrix;
  /// at up to 2M lines also by the whole-file `DelimitedText.readInteractions` (records only);
  /// and the same interactions as scipy's compressed `save_npz` output when
  /// `scripts/compare_loading.py` has written it beside the text file.
  ///
  /// Rates: lines/s and MB/s of text; the peak RSS column is the case's own (reset before it).
  func runLoading() throws {
    let lines = loadingLines
    let dir = URL(fileURLWithPath: loadingDirectory)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let tsv = dir.appendingPathComponent("interactions-\(lines).tsv")
    if !FileManager.default.fileExists(atPath: tsv.path) {
      let seconds = try secondsOf { try LoadingFile.write(lines: lines, to: tsv) }
      harness.fact("loading", String(format: "wrote %@ in %.1f s", tsv.path, seconds))
    }
    let bytes = Double(
      (try FileManager.default.attributesOfItem(atPath: tsv.path)[.size] as? Int) ?? 0)
    harness.fact(
      "loading",
      String(format: "%@: %d lines, %.1f MB (%.1f bytes per line)", tsv.lastPathComponent,
        lines, bytes / 1e6, bytes / Double(lines)))
    let rates = [("lines/s", Double(lines)), ("MB/s", bytes / 1e6)]
    var shape = ""
    try harness.measure(
      "loading", "text stream → ids + COO, \(lines) lines", rates: rates,
      note: "streamInteractions + matrix()"
    ) {
      let columns = try DelimitedText.streamInteractions(from: tsv)
      let coo = columns.matrix()
      shape = "\(coo.shape.rows) users × \(coo.shape.columns) items, \(coo.nnz) entries"
    }
    harness.fact("loading", "text stream: \(shape)")
    if lines <= 2_000_000 {
      try harness.measure(
        "loading", "text readInteractions (whole file, records), \(lines) lines", rates: rates,
        note: "the reader lightfm fit uses today"
      ) {
        _ = try DelimitedText.readInteractions(from: tsv)
      }
    }
    let npz = dir.appendingPathComponent("interactions-\(lines).npz")
    if lines > npzLines {
      harness.fact(
        "loading", "\(npz.lastPathComponent) not read: more than --npz-lines \(npzLines)")
    } else if FileManager.default.fileExists(atPath: npz.path) {
      try harness.measure(
        "loading", "npz (scipy save_npz, compressed), \(lines) entries",
        rates: [("entries/s", Double(lines))], note: "NPZ.readSparseMatrix"
      ) {
        _ = try NPZ.readSparseMatrix(from: npz)
      }
    } else {
      harness.fact(
        "loading", "\(npz.lastPathComponent) missing: scripts/compare-loading writes it")
    }
  }
}

/// The loading suite's text file.
enum LoadingFile {
  /// Writes `lines` lines `user<TAB>item<TAB>rating<TAB>timestamp`: 100K users uniform, 50K
  /// items with a skewed popularity (index = 50K · u²), ratings 1–5, 9-digit timestamps.
  static func write(lines: Int, to url: URL) throws {
    guard FileManager.default.createFile(atPath: url.path, contents: nil),
      let handle = FileHandle(forWritingAtPath: url.path)
    else { throw LightFMError(.io, "\(url.path): cannot create") }
    defer { try? handle.close() }
    var rng = SplitMix64(seed: 2024)
    var out: [UInt8] = []
    out.reserveCapacity(1 << 20)
    func appendNumber(_ value: Int) {
      let start = out.count
      var v = value
      repeat {
        out.append(UInt8(0x30 + v % 10))
        v /= 10
      } while v > 0
      out[start...].reverse()
    }
    for _ in 0..<lines {
      appendNumber(Int(rng.next() % 100_000))
      out.append(0x09)
      let u = rng.nextUnit()
      appendNumber(Int(50_000 * u * u))
      out.append(0x09)
      appendNumber(Int(1 + rng.next() % 5))
      out.append(0x09)
      appendNumber(874_724_710 + Int(rng.next() % 100_000_000))
      out.append(0x0A)
      if out.count >= 1 << 20 {
        try handle.write(contentsOf: out)
        out.removeAll(keepingCapacity: true)
      }
    }
    try handle.write(contentsOf: out)
  }
}
