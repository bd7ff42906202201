import ArgumentParser
import Foundation
import LightFMKit

// MARK: - Enums as arguments

extension LightFM.Loss: ExpressibleByArgument {}
extension LightFM.LearningSchedule: ExpressibleByArgument {}

/// How `recommend` and `similar` print their lists.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument {
  /// One line per (query, rank): comma-separated, with a header line.
  case csv
  /// One JSON object per query per line.
  case jsonl
}

// MARK: - Shared option groups

/// `--model FILE`: the `.lfm` file a command reads.
struct ModelInput: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "The model file written by `lightfm fit` or `lightfm import` ('-' reads standard input).",
      valueName: "file"))
  var model: String

  /// Loads the model; its mappings must be present (every `lightfm fit` model has them).
  func load() throws -> LoadedModel {
    let (bytes, name) = try readInput(model).text(expecting: "a .lfm model file")
    let saved = try LightFM.load(bytes: bytes, file: name)
    guard let dataset = saved.dataset else {
      throw LightFMError(
        .corruptModel,
        "\(model): the model has no id mappings (it was saved from code without a Dataset); "
          + "save it with model.save(to:dataset:)")
    }
    guard saved.model.isFitted else {
      throw LightFMError(.notFitted, "\(model): the model was saved before it was fitted")
    }
    return LoadedModel(saved: saved, dataset: dataset, path: model)
  }
}

/// A model file with its mappings, ready to score.
struct LoadedModel {
  let saved: SavedModel
  let dataset: Dataset
  let path: String

  var model: LightFM { saved.model }
  var userFeatures: CSRMatrix? { saved.userFeatures }
  var itemFeatures: CSRMatrix? { saved.itemFeatures }
}

/// `--threads N`.
struct ThreadOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "Worker threads for training and scoring (default: the number of active cores).",
      valueName: "n"))
  var threads: Int?

  func validate() throws {
    if let threads, threads < 1 {
      throw ValidationError("--threads must be at least 1, got \(threads)")
    }
  }

  var count: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }
}

/// `--max-memory SIZE`: the memory budget of the readers (`LoadLimits`).
struct MemoryOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "The most memory one input file (or the model) may need, e.g. 4G or 512M; larger inputs "
        + "are refused with an error (default: half the physical memory).",
      valueName: "size"))
  var maxMemory: String?

  /// Parses the size and makes it the process's budget (`LoadLimits.default`).
  func validate() throws {
    guard let maxMemory else { return }
    guard let bytes = LoadLimits.parseSize(maxMemory) else {
      throw ValidationError(
        "--max-memory must be a size such as 4G, 512M or 1000000, got \(maxMemory)")
    }
    LoadLimits.default = LoadLimits(maxBytes: bytes)
  }
}

/// `--min-rating R`: how the third column of an interactions file is read. Each command
/// declares the option itself, so that its help names the files it applies to.
enum RatingOptions {
  /// The help's common part, after the command's own first sentence.
  static let rule =
    "(LightFM's MovieLens protocol uses 4). Without it, the third column, if any, is a sample "
    + "weight."

  static func validate(_ minRating: Float?) throws {
    if let minRating, !minRating.isFinite {
      throw ValidationError("--min-rating must be a finite number, got \(minRating)")
    }
  }
}

/// `--format` and `--item-names`: how `recommend` and `similar` print their lists.
struct ListOptions: ParsableArguments {
  @Option(name: .long, help: "Output format: csv or jsonl (one JSON object per list).")
  var format: OutputFormat = .csv

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Item names, id<sep>name lines (MovieLens u.item works; '-' reads standard input), "
        + "added to the output as a name column (CSV) or a name field (JSON lines; left out for "
        + "an item without a name). Items only: not applied to similar --user.",
      valueName: "file"))
  var itemNames: String?
}

// MARK: - Output

/// Writes progress and notes to standard error, so standard output stays machine-readable.
enum Console {
  /// Writes `message` and a newline to standard error. Best effort: a closed, full or broken
  /// standard error loses the note, nothing else (`StandardStreams.writeError`).
  static func note(_ message: String) {
    StandardStreams.writeError(message + "\n")
  }
}

/// Standard output or a file that appears whole when the command succeeds.
final class OutputSink {
  private let file: AtomicFileWriter?

  /// `path` nil or `-` means standard output (`StandardStreams.output`).
  init(path: String?) throws {
    if let path, path != "-" {
      file = try AtomicFileWriter(destination: URL(fileURLWithPath: path))
    } else {
      file = nil
    }
  }

  /// - Throws: `LightFMError` when a write fails, `BrokenPipe` when standard output's reader
  ///   went away.
  func write(_ text: String) throws {
    if let file {
      try file.write(text)
    } else {
      try StandardStreams.output.write(text)
    }
  }

  /// Pushes what is buffered to standard output (a file is only renamed into place by `finish`).
  ///
  /// - Throws: as `write`.
  func flush() throws {
    if file == nil { try StandardStreams.output.flush() }
  }

  /// Completes the output: renames the file into place, or flushes standard output.
  func finish() throws {
    if let file { try file.commit() } else { try flush() }
  }
}

/// Quotes a CSV field when it holds a comma, a quote or a line break (RFC 4180).
func csvField(_ s: String) -> String {
  guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
    return s
  }
  return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// A JSON string literal.
func jsonString(_ s: String) -> String {
  var out = "\""
  for scalar in s.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out + "\""
}

/// A JSON number for a finite float (shortest round-tripping form), `null` otherwise.
func jsonNumber(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }
func jsonNumber(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }
