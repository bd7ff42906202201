import ArgumentParser
import Foundation
import LightFMKit

/// `lightfm import`: a model file from the directory `lightfm export` (or
/// `scripts/export-from-lightfm.py`) writes.
struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Read an exported model directory (ours, or a Python LightFM's) into a .lfm file.",
    discussion: """
      DIR holds what `lightfm export` writes, and what scripts/export-from-lightfm.py writes \
      from a fitted Python LightFM and its Dataset: user_embeddings.npy, item_embeddings.npy, \
      user_biases.npy and item_biases.npy (the optimiser state too, when present: it only \
      matters to further training), user_ids.txt, item_ids.txt, user_features.txt and \
      item_features.txt (one per line, in index order), model.json (the hyper-parameters), \
      and user_feature_matrix.npz / item_feature_matrix.npz when the model was trained with \
      features beyond the identity. The model then scores here exactly as it scored there.
      """)

  @Option(
    name: .long,
    help: ArgumentHelp("The exported directory to read.", valueName: "dir"))
  var dir: String

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Where to write the model (.lfm); written whole or not at all.", valueName: "file"))
  var model: String

  func run() throws {
    let directory = URL(fileURLWithPath: dir)
    func file(_ name: String) -> URL { directory.appendingPathComponent(name) }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
      isDirectory.boolValue
    else {
      throw LightFMError(.io, "\(dir): no such directory")
    }
    var estimator = try Self.hyperParameters(file("model.json"))
    try estimator.validateHyperParameters()

    var arrays: [String: NumpyArray] = [:]
    for side in Side.allCases {
      for suffix in [
        "embeddings", "biases", "embedding_gradients", "embedding_momentum", "bias_gradients",
        "bias_momentum",
      ] {
        let name = "\(side)_\(suffix)"
        let url = file(name + ".npy")
        if FileManager.default.fileExists(atPath: url.path) {
          arrays[name] = try NumpyArray.read(from: url)
        }
      }
    }
    do {
      try estimator.setParameters(numpyArrays: arrays)
    } catch let error as LightFMError {
      throw LightFMError(error.kind, "\(dir): \(error.message)")
    }

    var lists: [String: [String]] = [:]
    for side in Side.allCases {
      for kind in ["ids", "features"] {
        lists["\(side)_\(kind)"] = try Self.lines(file("\(side)_\(kind).txt"))
      }
    }
    let sides = try Side.allCases.map { side in
      try Self.side(
        side, ids: lists["\(side)_ids"]!, features: lists["\(side)_features"]!,
        modelFeatures: side == .user ? estimator.userFeatureCount : estimator.itemFeatureCount,
        matrix: file(ExportLayout.featureMatrixName(side)), dir: dir)
    }
    let (users, items) = (sides[0], sides[1])
    var dataset = Dataset(
      userIdentityFeatures: users.identity, itemIdentityFeatures: items.identity)
    do {
      try dataset.fit(
        users: users.ids, items: items.ids, userFeatures: users.extra, itemFeatures: items.extra)
    } catch let error as LightFMError {
      throw LightFMError(error.kind, "\(dir): \(error.message)")
    }
    for (side, lists) in [(Side.user, users), (.item, items)]
    where dataset.featureNames(side).ids != lists.features {
      throw LightFMError.invalidData(
        "\(dir): \(side)_features.txt does not list the identity features first and then the "
          + "others, each once, as LightFM's Dataset numbers them")
    }
    try estimator.save(
      to: URL(fileURLWithPath: model), dataset: dataset, userFeatures: users.matrix,
      itemFeatures: items.matrix)
    Console.note(
      "import: wrote \(model): \(users.ids.count) users, \(items.ids.count) items, "
        + "\(users.features.count) user and \(items.features.count) item features, "
        + "\(estimator.loss.rawValue), d = \(estimator.noComponents)")
  }

  /// One side's ids, features and feature matrix.
  struct SideLists {
    var ids: [String]
    var features: [String]
    /// Whether the features start with the ids (LightFM's identity features).
    var identity: Bool
    /// The features after the identity ones.
    var extra: [String]
    /// `nil` for identity features alone.
    var matrix: CSRMatrix?
  }

  static func side(
    _ side: Side, ids: [String], features: [String], modelFeatures: Int, matrix url: URL,
    dir: String
  ) throws -> SideLists {
    guard features.count == modelFeatures else {
      throw LightFMError.invalidData(
        "\(dir): \(side)_features.txt lists \(features.count) features but \(side)_embeddings "
          + "has \(modelFeatures) rows: expected one line per row")
    }
    let identity = features.count >= ids.count && Array(features.prefix(ids.count)) == ids
    let extra = identity ? Array(features.dropFirst(ids.count)) : features
    var matrix: CSRMatrix?
    if FileManager.default.fileExists(atPath: url.path) {
      let m = try NPZ.readSparseMatrix(from: url)
      guard m.shape.rows == ids.count, m.shape.columns == features.count else {
        throw LightFMError.invalidData(
          "\(url.path): the matrix is \(m.shape.rows) x \(m.shape.columns): expected \(ids.count) "
            + "\(side)s x \(features.count) features (\(side)_ids.txt, \(side)_features.txt)")
      }
      matrix = m.summingDuplicates().toCSR()
    } else if !(identity && extra.isEmpty) {
      throw LightFMError.invalidData(
        "\(dir): the \(side)s have \(features.count) features for \(ids.count) ids, so the model "
          + "needs its \(side) feature matrix: \(ExportLayout.featureMatrixName(side)) is missing "
          + "(scripts/export-from-lightfm.py writes it when given the matrix)")
    }
    return SideLists(
      ids: ids, features: features, identity: identity, extra: extra, matrix: matrix)
  }

  /// The lines of a text file (a last empty line is not one).
  static func lines(_ url: URL) throws -> [String] {
    let (bytes, name) = try readInput(url.path).text(expecting: "one name per line")
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw LightFMError(.parse, "\(name): is not UTF-8 text")
    }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    return lines
  }

  /// A model with the hyper-parameters of `model.json` (LightFM's names and defaults).
  static func hyperParameters(_ url: URL) throws -> LightFM {
    let (bytes, name) = try readInput(url.path).text(expecting: "a JSON object")
    guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
    else { throw LightFMError(.parse, "\(name): is not a JSON object") }
    func number(_ key: String, _ fallback: Double) throws -> Double {
      guard let value = object[key] else { return fallback }
      guard let x = value as? Double ?? (value as? NSNumber)?.doubleValue else {
        throw LightFMError(.parse, "\(name): \(key) is \(value), expected a number")
      }
      return x
    }
    func text<T: RawRepresentable>(_ key: String, _ fallback: T) throws -> T
    where T.RawValue == String {
      guard let value = object[key] else { return fallback }
      guard let raw = value as? String, let parsed = T(rawValue: raw) else {
        throw LightFMError(.parse, "\(name): \(key) is \(value), which this version does not know")
      }
      return parsed
    }
    guard object["no_components"] != nil else {
      throw LightFMError(.parse, "\(name): no_components is missing")
    }
    return LightFM(
      noComponents: Int(try number("no_components", 10)), k: Int(try number("k", 5)),
      n: Int(try number("n", 10)),
      learningSchedule: try text("learning_schedule", LightFM.LearningSchedule.adagrad),
      loss: try text("loss", LightFM.Loss.logistic),
      learningRate: Float(try number("learning_rate", 0.05)), rho: Float(try number("rho", 0.95)),
      epsilon: Float(try number("epsilon", 1e-6)), itemAlpha: Float(try number("item_alpha", 0)),
      userAlpha: Float(try number("user_alpha", 0)),
      maxSampled: Int(try number("max_sampled", 10)))
  }
}
