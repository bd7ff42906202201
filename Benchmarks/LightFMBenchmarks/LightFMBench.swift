import ArgumentParser
import LightFMKit
import _LightFMTestSupport

/// `lightfm-bench`: scalar vs BLAS timings on synthetic and MovieLens data.
@main
struct LightFMBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lightfm-bench",
    abstract: "Benchmarks swift-lightfm's scalar and BLAS paths."
  )

  func run() throws {
    #if DEBUG
      throw ValidationError("lightfm-bench measures release builds only: swift run -c release lightfm-bench")
    #endif
  }
}
