import ArgumentParser
import Foundation
import LightFMKit

/// `--no-item-bias`, `--popularity-penalty BETA` and `--popularity-from FILE`: how much item
/// popularity weighs in `recommend` and `evaluate` (`PopularityControl`).
struct PopularityOptions: ParsableArguments {
  @Flag(
    name: .long,
    help: "Score without the item biases, so that popular items are not pushed to everyone.")
  var noItemBias = false

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Subtract beta * ln(1 + n) from each item's score, n the item's interactions in the "
        + "training file (--popularity-from, else --exclude for recommend and --train for "
        + "evaluate).",
      valueName: "beta"))
  var popularityPenalty: Float = 0

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Count the items' interactions for --popularity-penalty in this file (same format as "
        + "fit's --train): its lines with a positive value, or with --min-rating those rated "
        + "at least that.",
      valueName: "file"))
  var popularityFrom: String?

  func validate() throws {
    guard popularityPenalty.isFinite, popularityPenalty >= 0 else {
      throw ValidationError(
        "--popularity-penalty must be a finite number, at least 0, got \(popularityPenalty)")
    }
    if popularityFrom != nil && popularityPenalty == 0 {
      throw ValidationError("--popularity-from needs a --popularity-penalty above 0")
    }
  }

  /// Checks that the penalty has counts: `--popularity-from`, or the command's training file
  /// (`trainingOption`, such as `--exclude`, given or not by `hasTraining`).
  func checkSource(hasTraining: Bool, trainingOption: String) throws {
    if popularityPenalty > 0 && popularityFrom == nil && !hasTraining {
      throw ValidationError(
        "--popularity-penalty needs the training interactions to count: give \(trainingOption) "
          + "or --popularity-from")
    }
  }

  /// The control for the loaded model, counting `--popularity-from` if given, else `training`
  /// (the command's training matrix).
  ///
  /// - Throws: `LightFMError` for an unreadable or malformed `--popularity-from` file.
  func control(
    dataset: Dataset, training: (any InteractionMatrix)?, minRating: Float?, label: String
  ) throws -> PopularityControl {
    guard popularityPenalty > 0 else { return PopularityControl(itemBiases: !noItemBias) }
    let counted: any InteractionMatrix
    if let path = popularityFrom {
      let input = try InteractionInput(path: path)
      let read = try input.matrix(try input.positives(minRating: minRating), dataset: dataset)
      if let first = read.firstUnknown {
        Console.note(
          "\(label): \(read.unknown) line(s) of \(path) name a user or item the model does not "
            + "know and count for nothing (first at \(input.location(first)))")
      }
      counted = read.matrix
    } else {
      guard let training else {
        preconditionFailure("checkSource lets a penalty through only with training data")
      }
      counted = training
    }
    return PopularityControl(
      itemBiases: !noItemBias, penalty: popularityPenalty, counting: counted)
  }
}
