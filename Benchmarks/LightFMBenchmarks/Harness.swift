import Foundation

/// One measured figure: a case of a suite timed over several repetitions after a warm-up.
struct Measurement: Codable {
  var suite: String
  var name: String
  /// Seconds per repetition.
  var median: Double
  var min: Double
  var max: Double
  var repetitions: Int
  /// Derived rates from the median (e.g. "pairs/s", "GFLOP/s"), in display order.
  var rates: [Rate]
  /// The process's peak resident set during this case, in MiB (VmHWM after a reset), or the
  /// process's peak so far when the kernel does not let us reset it.
  var peakRSSMiB: Double
  var note: String?

  struct Rate: Codable {
    var unit: String
    var value: Double
  }
}

/// Times closures and collects `Measurement`s; also tracks peak RSS.
final class Harness {
  let warmups: Int
  let repetitions: Int
  private(set) var measurements: [Measurement] = []
  /// Free-form facts printed after the table (quality numbers, sizes).
  private(set) var facts: [(suite: String, text: String)] = []

  init(warmups: Int, repetitions: Int) {
    self.warmups = warmups
    self.repetitions = repetitions
  }

  /// Runs `body` `warmups` times untimed, then `repetitions` times timed, and records the
  /// median, min and max seconds with rates computed from the median.
  ///
  /// - Parameters:
  ///   - rates: unit and amount of work per repetition; the rate is amount / median seconds.
  ///   - setUp: untimed work before each run (warm-ups included), such as a fresh model.
  ///   - divisor: each run does this many units (e.g. epochs); times are reported per unit.
  @discardableResult
  func measure(
    _ suite: String, _ name: String,
    rates: [(unit: String, perRun: Double)] = [],
    repetitions: Int? = nil,
    divisor: Double = 1,
    note: String? = nil,
    setUp: () throws -> Void = {},
    _ body: () throws -> Void
  ) rethrows -> Measurement {
    let reps = repetitions ?? self.repetitions
    let resetWorked = PeakRSS.reset()
    for _ in 0..<warmups {
      try setUp()
      try body()
    }
    var seconds: [Double] = []
    for _ in 0..<reps {
      try setUp()
      seconds.append(try secondsOf(body) / divisor)
    }
    return record(
      suite, name, seconds: seconds, rates: rates, note: note, resetWorked: resetWorked)
  }

  /// Times two variants of one case in alternation (a, b, a, b, …) after their warm-ups, so
  /// that a host whose speed drifts during the case slows both alike, and records both, the
  /// second with the rate `ratio` (its median over the first's).
  ///
  /// - Parameters: as `measure`; `names`, `first` and `second` are the two variants'.
  @discardableResult
  func measureAlternating(
    _ suite: String, _ names: (String, String),
    rates: [(unit: String, perRun: Double)] = [],
    divisor: Double = 1,
    note: String? = nil,
    ratio: String,
    _ first: () throws -> Void, _ second: () throws -> Void
  ) throws -> (Measurement, Measurement) {
    let resetWorked = PeakRSS.reset()
    let seconds = try timeInTurn(2, repetitions: repetitions, divisor: divisor) {
      try $0 == 0 ? first() : second()
    }
    let ma = record(
      suite, names.0, seconds: seconds[0], rates: rates, note: note, resetWorked: resetWorked)
    var mb = record(
      suite, names.1, seconds: seconds[1], rates: rates, note: note, resetWorked: resetWorked)
    addRate(ratio, mb.median / ma.median, to: names.1, suite: suite)
    mb.rates.append(Measurement.Rate(unit: ratio, value: mb.median / ma.median))
    return (ma, mb)
  }

  /// Runs cases 0..<count in turn (0, 1, …, 0, 1, …): `warmups` untimed rounds, then
  /// `repetitions` timed ones. Returns each case's seconds per run, divided by `divisor`.
  private func timeInTurn(
    _ count: Int, repetitions: Int, divisor: Double = 1, _ run: (Int) throws -> Void
  ) rethrows -> [[Double]] {
    for _ in 0..<warmups { for n in 0..<count { try run(n) } }
    var seconds = [[Double]](repeating: [], count: count)
    for _ in 0..<repetitions {
      for n in 0..<count { seconds[n].append(try secondsOf { try run(n) } / divisor) }
    }
    return seconds
  }

  /// Records the median, min and max of `seconds` with rates from the median.
  private func record(
    _ suite: String, _ name: String, seconds unsorted: [Double],
    rates: [(unit: String, perRun: Double)], note: String?, resetWorked: Bool
  ) -> Measurement {
    let seconds = unsorted.sorted()
    let median =
      seconds.count % 2 == 1
      ? seconds[seconds.count / 2]
      : (seconds[seconds.count / 2 - 1] + seconds[seconds.count / 2]) / 2
    let m = Measurement(
      suite: suite, name: name, median: median, min: seconds.first ?? 0,
      max: seconds.last ?? 0, repetitions: seconds.count,
      rates: rates.map { Measurement.Rate(unit: $0.unit, value: $0.perRun / median) },
      peakRSSMiB: PeakRSS.mebibytes(),
      note: resetWorked ? note : [note, "peak RSS not resettable"].compactMap { $0 }
        .joined(separator: "; "))
    measurements.append(m)
    Report.printRow(m)
    return m
  }

  /// Times several cases alternately (A B A B …, after one warm-up round), so that a load change
  /// on a shared host hits every case alike; records one measurement per case. Their peak RSS is
  /// the peak over the whole alternation.
  @discardableResult
  func measureInterleaved(
    _ suite: String, _ cases: [(name: String, rates: [(unit: String, perRun: Double)],
      body: () throws -> Void)],
    repetitions: Int? = nil, note: String? = nil
  ) throws -> [Measurement] {
    let resetWorked = PeakRSS.reset()
    let seconds = try timeInTurn(cases.count, repetitions: repetitions ?? self.repetitions) {
      try cases[$0].body()
    }
    let others = cases.count - 1
    let notes = [note, others > 0 ? "interleaved with \(others) other case(s)" : nil]
      .compactMap { $0 }
    return cases.enumerated().map { n, c in
      record(
        suite, c.name, seconds: seconds[n], rates: c.rates,
        note: notes.isEmpty ? nil : notes.joined(separator: "; "), resetWorked: resetWorked)
    }
  }

  /// Adds a rate to an already recorded measurement (e.g. a fraction of a baseline).
  func addRate(_ unit: String, _ value: Double, to name: String, suite: String) {
    guard let n = measurements.lastIndex(where: { $0.suite == suite && $0.name == name })
    else { return }
    measurements[n].rates.append(Measurement.Rate(unit: unit, value: value))
  }

  /// Records (and prints) a fact that is not a timing.
  func fact(_ suite: String, _ text: String) {
    facts.append((suite, text))
    Report.progress("  \(suite): \(text)")
  }
}

/// The process's peak resident set size from `/proc/self/status`.
enum PeakRSS {
  /// Resets the peak to the current RSS (`echo 5 > /proc/self/clear_refs`, Linux ≥ 4.0).
  ///
  /// - Returns: whether the reset worked.
  @discardableResult
  static func reset() -> Bool {
    guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
    defer { try? handle.close() }
    do {
      try handle.write(contentsOf: Data("5".utf8))
      return true
    } catch {
      return false
    }
  }

  /// VmHWM in MiB, or 0 when unavailable.
  static func mebibytes() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
      return 0
    }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
      let kib = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
      return kib / 1024
    }
    return 0
  }
}

/// Seconds of a closure, once (for one-off setup timings printed as facts).
func secondsOf(_ body: () throws -> Void) rethrows -> Double {
  let start = DispatchTime.now().uptimeNanoseconds
  try body()
  return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
}
