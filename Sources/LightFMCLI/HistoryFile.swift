import Foundation
import LightFMKit

/// `fit --history`: one row per evaluation (every epoch without `--validate`), written as the
/// epochs finish so that a long run can be plotted while it trains.
///
/// CSV with a header, or JSON lines when the name ends in `.jsonl`. The columns:
///
/// ```
/// epoch,seconds,loss,k,precision_at_k,recall_at_k,auc,ndcg_at_k
/// ```
///
/// `seconds` is the time since training started, evaluations included (`TrainingProgress.
/// elapsed`); `loss` the epoch's mean training loss; the metrics are the validation set's. A
/// value that is absent or not a number is an empty CSV field or a JSON `null`.
final class HistoryFile {
  enum Format { case csv, jsonLines }

  static let columns = [
    "epoch", "seconds", "loss", "k",
    "precision_at_k", "recall_at_k", "auc", "ndcg_at_k",
  ]

  let path: String
  let format: Format
  /// Every epoch gets a row, or only the validated ones.
  private let everyEpoch: Bool
  private let handle: FileHandle

  /// Creates (or empties) the file and writes the CSV header.
  ///
  /// - Parameter everyEpoch: write every epoch (no validation), not only the evaluated ones.
  /// - Throws: `LightFMError` when the file cannot be created.
  init(path: String, everyEpoch: Bool) throws {
    self.path = path
    self.everyEpoch = everyEpoch
    format = path.lowercased().hasSuffix(".jsonl") ? .jsonLines : .csv
    guard FileManager.default.createFile(atPath: path, contents: nil),
      let handle = FileHandle(forWritingAtPath: path)
    else {
      throw LightFMError(.io, "\(path): cannot create the history file: expected a writable path")
    }
    self.handle = handle
    if format == .csv { try write(Self.columns.joined(separator: ",")) }
  }

  deinit { try? handle.close() }

  /// Appends the row of one epoch's report (nothing for an epoch without scores, when only
  /// evaluations are written).
  func append(_ p: TrainingProgress) throws {
    guard everyEpoch || p.validation != nil else { return }
    let v = p.validation
    let values: [String?] = [
      "\(p.epoch)", number(p.elapsed), p.loss.flatMap(number), v.map { "\($0.k)" },
      v.flatMap { number($0.precisionAtK) }, v.flatMap { number($0.recallAtK) },
      v.flatMap { number($0.auc) }, v.flatMap { number($0.ndcgAtK) },
    ]
    switch format {
    case .csv:
      try write(values.map { $0 ?? "" }.joined(separator: ","))
    case .jsonLines:
      let fields = zip(Self.columns, values).map { "\(jsonString($0)): \($1 ?? "null")" }
      try write("{" + fields.joined(separator: ", ") + "}")
    }
  }

  /// The shortest text that reads back as `x`, or nil when it is not finite.
  private func number(_ x: Double) -> String? { x.isFinite ? "\(x)" : nil }

  private func write(_ line: String) throws {
    do {
      try handle.write(contentsOf: Data((line + "\n").utf8))
    } catch {
      throw LightFMError(.io, "\(path): cannot write the history: \(error)")
    }
  }
}
