import ArgumentParser
import LightFMKit

/// `lightfm`: train, evaluate and serve LightFM-style hybrid recommenders from the shell.
@main
struct LightFMCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lightfm",
    abstract: "Train, evaluate and serve LightFM-style hybrid recommenders on the CPU.",
    subcommands: []
  )
}
