import ArgumentParser
import LightFMKit

/// `lightfm`: train, evaluate and serve LightFM-style hybrid recommenders from the shell.
@main
struct LightFMCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lightfm",
    abstract: "Train, evaluate and serve LightFM-style hybrid recommenders on the CPU.",
    discussion: """
      Start with `lightfm demo`. Data files are delimited text (tab, comma, '|' or '::') or \
      scipy .npz sparse matrices; models are .lfm files written by `lightfm fit`. Every input \
      file argument takes '-' for standard input, and reads pipes and process substitution \
      (--train <(zcat ratings.tsv.gz)). Progress and notes go to standard error (--quiet \
      turns progress off); results to standard output. Shell completion: \
      `lightfm --generate-completion-script bash` (or zsh, fish).
      """,
    version: LightFM.version,
    subcommands: [
      Fit.self, Evaluate.self, Recommend.self, RankNewItems.self, Similar.self, Export.self,
      Import.self, Demo.self,
    ]
  )
}
