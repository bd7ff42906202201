import Foundation

/// The table on stdout and the JSON file.
enum Report {
  /// Progress on stderr, one line per measurement, as it is taken.
  static func printRow(_ m: Measurement) {
    let line =
      "[\(m.suite)] \(m.name): median \(time(m.median)) (min \(time(m.min)), "
      + "max \(time(m.max))) \(rates(m))\n"
    FileHandle.standardError.write(Data(line.utf8))
  }

  static func progress(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }

  /// The whole table, for stdout.
  static func table(_ harness: Harness, header: [String]) -> String {
    var out = header.map { "# " + $0 }.joined(separator: "\n") + "\n"
    let columns = ["suite", "case", "median", "min", "max", "peak RSS", "rates"]
    var rows: [[String]] = [columns]
    for m in harness.measurements {
      rows.append([
        m.suite, m.name, time(m.median), time(m.min), time(m.max),
        String(format: "%.0f MiB", m.peakRSSMiB), rates(m) + (m.note.map { "  (\($0))" } ?? ""),
      ])
    }
    let widths = (0..<columns.count).map { c in rows.map { $0[c].count }.max() ?? 0 }
    for (n, row) in rows.enumerated() {
      var line = ""
      for (c, cell) in row.enumerated() {
        let pad = String(repeating: " ", count: widths[c] - cell.count)
        // Text columns left-aligned, numbers right-aligned; the last column is not padded.
        if c == row.count - 1 {
          line += cell
        } else if c < 2 {
          line += cell + pad + "  "
        } else {
          line += pad + cell + "  "
        }
      }
      out += line + "\n"
      if n == 0 {
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
      }
    }
    if !harness.facts.isEmpty {
      out += "\n"
      for f in harness.facts { out += "\(f.suite): \(f.text)\n" }
    }
    return out
  }

  struct Document: Codable {
    var date: String
    var command: String
    var environment: [String: String]
    var measurements: [Measurement]
    var facts: [Fact]

    struct Fact: Codable {
      var suite: String
      var text: String
    }
  }

  static func json(_ harness: Harness, environment: [String: String]) throws -> Data {
    let doc = Document(
      date: ISO8601DateFormatter().string(from: Date()),
      command: CommandLine.arguments.joined(separator: " "),
      environment: environment,
      measurements: harness.measurements,
      facts: harness.facts.map { Document.Fact(suite: $0.suite, text: $0.text) })
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(doc)
  }

  // MARK: - Formatting

  static func time(_ seconds: Double) -> String {
    switch seconds {
    case ..<1e-6: return String(format: "%.1f ns", seconds * 1e9)
    case ..<1e-3: return String(format: "%.1f µs", seconds * 1e6)
    case ..<1: return String(format: "%.1f ms", seconds * 1e3)
    default: return String(format: "%.2f s", seconds)
    }
  }

  static func rates(_ m: Measurement) -> String {
    m.rates.map { "\(number($0.value)) \($0.unit)" }.joined(separator: ", ")
  }

  static func number(_ x: Double) -> String {
    let a = abs(x)
    switch a {
    case 1e9...: return String(format: "%.2fG", x / 1e9)
    case 1e6...: return String(format: "%.2fM", x / 1e6)
    case 1e4...: return String(format: "%.1fK", x / 1e3)
    case 100...: return String(format: "%.0f", x)
    case 1...: return String(format: "%.2f", x)
    default: return String(format: "%.3f", x)
    }
  }
}
