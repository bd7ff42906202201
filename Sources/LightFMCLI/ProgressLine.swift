import ArgumentParser
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `--quiet`: no progress on standard error.
struct ProgressOptions: ParsableArguments {
  @Flag(
    name: .long,
    help: "Show no progress on standard error (notes, warnings and errors still appear).")
  var quiet = false

  /// Turns progress off for the process (`ProgressLine.enabled`).
  func validate() throws {
    if quiet { ProgressLine.enabled = false }
  }
}

/// The progress of one long step (loading a file, fitting, scoring the catalog) on standard
/// error: the count done, the rate and the time left.
///
/// On a terminal it is one line redrawn in place (`\r`, the text, then clear to the end of the
/// line) at most ten times a second, and erased when the step is done. When standard error is
/// not a terminal (a log file, a pipe), it is a plain line at most every `plainInterval`
/// seconds, so logs stay short.
final class ProgressLine {
  /// Whether progress is shown at all (`--quiet` turns it off). Set once, before any work.
  nonisolated(unsafe) static var enabled = true
  /// Whether standard error is a terminal, judged once.
  static let isTerminal = isatty(STDERR_FILENO) == 1
  /// Seconds between two plain lines when standard error is not a terminal.
  static let plainInterval = 5.0
  /// Seconds between two redraws on a terminal.
  static let redrawInterval = 0.1

  /// What is counted.
  enum Unit {
    /// Bytes, shown in MB.
    case bytes
    /// Things, shown with their plural noun (`users`, `epochs`).
    case count(String)
  }

  private let label: String
  private let total: Int?
  private let unit: Unit
  private let started = ContinuousClock.now
  private var lastShown: ContinuousClock.Instant?
  private var drawn = false

  /// - Parameters:
  ///   - label: what is in progress, e.g. `fit` or `loading ua.base`.
  ///   - total: the count when done, or `nil` when unknown (a pipe's bytes).
  init(_ label: String, total: Int?, unit: Unit) {
    self.label = label
    self.total = total
    self.unit = unit
  }

  /// Reports `done` units finished; draws when due. `detail` is appended to the line.
  func update(_ done: Int, detail: String = "") {
    guard Self.enabled else { return }
    let now = ContinuousClock.now
    let interval = Self.isTerminal ? Self.redrawInterval : Self.plainInterval
    let since = Self.seconds(now - (lastShown ?? started))
    let due = since >= interval
    guard due || (Self.isTerminal && done == total && drawn) else { return }
    lastShown = now
    if Self.show(line(done, elapsed: Self.seconds(now - started)) + detail) { drawn = true }
  }

  /// Ends the step: on a terminal the line is erased, so what follows starts on a clean line.
  func finish() {
    guard drawn else { return }
    drawn = false
    Self.erase()
  }

  /// Shows `text`: redrawn in place on a terminal (then `true`: there is a line to erase), a
  /// plain line otherwise.
  private static func show(_ text: String) -> Bool {
    guard isTerminal else {
      StandardStreams.writeError(text + "\n")
      return false
    }
    StandardStreams.writeError("\r" + fitted(text) + "\u{1B}[K")
    return true
  }

  /// Erases the line drawn in place by `show`.
  private static func erase() {
    StandardStreams.writeError("\r\u{1B}[K")
  }

  /// `label: 3/10 epochs  30%  1.9 epochs/s  left 4 s`.
  func line(_ done: Int, elapsed: Double) -> String {
    let rate = elapsed > 0 ? Double(done) / elapsed : 0
    var text = "\(label): "
    switch unit {
    case .bytes:
      text += Self.megabytes(done) + (total.map { "/" + Self.megabytes($0) } ?? "") + " MB"
    case .count(let noun):
      text += "\(done)" + (total.map { "/\($0)" } ?? "") + " \(noun)"
    }
    if let total, total > 0 {
      text += "  \(Int(Double(done) / Double(total) * 100))%"
    }
    switch unit {
    case .bytes: text += "  \(Self.number(rate / 1e6)) MB/s"
    case .count(let noun): text += "  \(Self.number(rate)) \(noun)/s"
    }
    if let total, rate > 0, done < total {
      text += "  left " + Self.duration(Double(total - done) / rate)
    }
    return text
  }

  /// `bytes` in MB, one decimal: `12.3`.
  static func megabytes(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1e6) }

  /// Three significant figures at most: 1234, 12.3, 1.23.
  static func number(_ x: Double) -> String {
    if x >= 100 { return String(format: "%.0f", x) }
    if x >= 10 { return String(format: "%.1f", x) }
    return String(format: "%.2f", x)
  }

  /// `4 s`, `2 min 05 s`, `1 h 03 min`.
  static func duration(_ s: Double) -> String {
    let t = Int(s.rounded(.up))
    if t < 60 { return "\(t) s" }
    if t < 3600 { return String(format: "%d min %02d s", t / 60, t % 60) }
    return String(format: "%d h %02d min", t / 3600, (t % 3600) / 60)
  }

  /// Runs `body` (work that counts nothing, such as parsing a file already read) while a timer
  /// shows `label: what  N s` as `update` would, and erases it when `body` returns.
  static func elapsed<T>(_ label: String, _ what: String, _ body: () throws -> T) rethrows -> T {
    guard enabled else { return try body() }
    let queue = DispatchQueue(label: "lightfm.progress")
    let timer = DispatchSource.makeTimerSource(queue: queue)
    let drawn = DrawnFlag()
    let started = ContinuousClock.now
    let interval = isTerminal ? redrawInterval : plainInterval
    timer.schedule(deadline: .now() + interval, repeating: interval)
    timer.setEventHandler {
      let taken = seconds(ContinuousClock.now - started)
      let shown = taken < 60 ? String(format: "%.1f s", taken) : duration(taken)
      if show("\(label): \(what)  \(shown)") { drawn.value = true }
    }
    timer.resume()
    defer {
      timer.cancel()
      // The handler runs on `queue`: once this returns, it has finished and will not run again.
      queue.sync {
        if drawn.value { erase() }
      }
    }
    return try body()
  }

  /// Whether the timer of `elapsed` drew a line; touched on its queue only.
  private final class DrawnFlag: @unchecked Sendable {
    var value = false
  }

  /// The text cut to the terminal's width, so that it never wraps (a wrapped line cannot be
  /// redrawn with `\r`).
  private static func fitted(_ text: String) -> String {
    var size = winsize()
    guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 1 else { return text }
    let width = Int(size.ws_col) - 1
    return text.count > width ? String(text.prefix(width)) : text
  }

  private static func seconds(_ d: Duration) -> Double {
    let (s, attoseconds) = d.components
    return Double(s) + Double(attoseconds) * 1e-18
  }
}
