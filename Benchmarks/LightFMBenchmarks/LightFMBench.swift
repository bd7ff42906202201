import ArgumentParser
import Foundation
import LightFMKit
import _LightFMTestSupport

/// `lightfm-bench`: scalar vs BLAS timings on synthetic and MovieLens data.
@main
struct LightFMBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lightfm-bench",
    abstract: "Benchmarks swift-lightfm's scalar and BLAS paths (release builds only).",
    version: LightFM.version,
    subcommands: [Run.self, ExportSynthetic.self, Peers.self],
    defaultSubcommand: Run.self
  )
}

/// Refuses to measure a debug build.
func requireRelease() throws {
  #if DEBUG
    Report.progress(
      "lightfm-bench measures release builds only: swift run -c release lightfm-bench")
    throw ExitCode(2)
  #endif
}

/// The synthetic data set's sizes, shared by the subcommands.
struct SyntheticOptions: ParsableArguments {
  @Flag(help: "Reduced sizes (5K users × 2K items × 100K interactions) for a first look.")
  var quick = false

  @Option(help: "Synthetic users (default 100000; 5000 with --quick).")
  var users: Int?

  @Option(help: "Synthetic items (default 50000; 2000 with --quick).")
  var items: Int?

  @Option(help: "Synthetic interactions, train + test (default 10000000; 100000 with --quick).")
  var interactions: Int?

  @Option(help: "Seed of the synthetic generator.")
  var seed: UInt64 = 42

  var configuration: Synthetic.Configuration {
    var c = quick
      ? Synthetic.Configuration(users: 5_000, items: 2_000, interactions: 100_000)
      : Synthetic.Configuration.benchmark
    if let users { c.users = users }
    if let items { c.items = items }
    if let interactions { c.interactions = interactions }
    c.seed = seed
    return c
  }

  func validate() throws {
    for (name, value) in [("users", users), ("items", items), ("interactions", interactions)] {
      if let value, value < 1 { throw ValidationError("--\(name) must be at least 1") }
    }
    if let users, let items, let interactions, interactions > users * items / 2 {
      throw ValidationError("--interactions must be at most half of users × items")
    }
  }
}

/// The benchmark suites, selectable by name.
enum Suite: String, CaseIterable, ExpressibleByArgument {
  case kernels, representations, scoring, training, evaluation, foldin, loading, scaling

  /// The suites run when none is named: `loading` and `scaling` are asked for by name (they
  /// write a large file or sweep sizes far beyond the default set).
  static var defaults: [Suite] { allCases.filter { $0 != .loading && $0 != .scaling } }
}

extension LightFMBench {
  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Runs the suites (all by default) and prints a table.")

    @Argument(
      help: ArgumentHelp(
        "Suites to run: \(Suite.allCases.map(\.rawValue).joined(separator: ", ")) "
          + "(default: all but loading and scaling)."))
    var suites: [Suite] = []

    @OptionGroup var synthetic: SyntheticOptions

    @Option(help: "MovieLens 100K folder (ua.base, ua.test).")
    var data: String = "../shared/data/ml-100k"

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @Option(help: "Timed repetitions per case (at least 5).")
    var repetitions: Int = 5

    @Option(help: "Embedding dimension d for scoring and the synthetic training.")
    var components: Int = 32

    @Option(help: "Worker threads for scoring and evaluation (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Lines of the loading suite's text file (default 10000000; 200000 --quick).")
    var lines: Int?

    @Option(help: "Folder for the loading suite's files (written when missing).")
    var loadingDir: String = ".peers/loading"

    @Option(
      help: ArgumentHelp(
        "Largest loading file whose .npz is read (the in-house DEFLATE decoder is quadratic; "
          + "raise it once zlib reads .npz)."))
    var npzLines: Int = 200_000

    func validate() throws {
      if let lines, lines < 1 { throw ValidationError("--lines must be at least 1") }
      if repetitions < 5 { throw ValidationError("--repetitions must be at least 5") }
      if components < 1 { throw ValidationError("--components must be at least 1") }
      if threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
      try requireRelease()
      let selected = suites.isEmpty ? Suite.defaults : suites
      let harness = Harness(warmups: 1, repetitions: repetitions)
      let workloads = Workloads(
        synthetic: synthetic.configuration, movieLens: URL(fileURLWithPath: data),
        quick: synthetic.quick)
      let context = BenchContext(
        harness: harness, workloads: workloads, components: components, threads: threads,
        quick: synthetic.quick)
      context.loadingLines = lines ?? (synthetic.quick ? 200_000 : 10_000_000)
      context.loadingDirectory = loadingDir
      context.npzLines = npzLines
      let started = Date()
      for suite in selected {
        Report.progress("== suite \(suite.rawValue)")
        switch suite {
        case .kernels: try context.runKernels()
        case .representations: try context.runRepresentations()
        case .scoring: try context.runScoring()
        case .training: try context.runTraining()
        case .evaluation: try context.runEvaluation()
        case .foldin: try context.runFoldIn()
        case .loading: try context.runLoading()
        case .scaling: try context.runScaling()
        }
      }
      let c = synthetic.configuration
      let environment = Environment.describe(extra: [
        "synthetic": "\(c.users) users × \(c.items) items, \(c.interactions) interactions "
          + "target, seed \(c.seed)",
        "components": "\(components)",
        "threads": "\(threads)",
        "wall": String(format: "%.0f s", Date().timeIntervalSince(started)),
      ])
      print(
        Report.table(
          harness,
          header: [
            "lightfm-bench \(CommandLine.arguments.dropFirst().joined(separator: " "))",
            ISO8601DateFormatter().string(from: Date()),
          ] + environment.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }))
      if let json {
        let data = try Report.json(harness, environment: environment)
        try data.write(to: URL(fileURLWithPath: json), options: .atomic)
        Report.progress("wrote \(json)")
      }
    }
  }

  struct ExportSynthetic: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "export-synthetic",
      abstract: "Writes the synthetic set as scipy .npz (train.npz, test.npz) and its settings.")

    @OptionGroup var synthetic: SyntheticOptions

    @Option(help: "Output folder (created if missing).")
    var out: String

    func run() throws {
      let c = synthetic.configuration
      var data: Synthetic.DataSet?
      let seconds = secondsOf { data = Synthetic.generate(c) }
      guard let data else { return }
      let dir = URL(fileURLWithPath: out)
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
      try NPZWriter.writeCOO(data.train, to: dir.appendingPathComponent("train.npz"))
      try NPZWriter.writeCOO(data.test, to: dir.appendingPathComponent("test.npz"))
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(c).write(to: dir.appendingPathComponent("synthetic.json"))
      print(
        String(
          format: "generated %d train + %d test interactions in %.2f s; wrote %@",
          data.train.nnz, data.test.nnz, seconds, dir.path))
    }
  }
}

/// Facts about the machine and build, for the report header.
enum Environment {
  static func describe(extra: [String: String]) -> [String: String] {
    var env = extra
    env["cores"] = "\(ProcessInfo.processInfo.activeProcessorCount)"
    if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
      let line = cpu.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
      let name = line.split(separator: ":", maxSplits: 1).last
    {
      env["cpu"] = name.trimmingCharacters(in: .whitespaces)
    }
    return env
  }
}
