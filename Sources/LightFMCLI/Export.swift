import ArgumentParser
import Foundation
import LightFMKit

/// `lightfm export`: the learned arrays and id lists as `.npy` and text, for Python.
struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a model's embeddings, biases and id lists as .npy and text files.",
    discussion: """
      Writes, into DIR: user_embeddings.npy and item_embeddings.npy (features x d, float32), \
      user_biases.npy, item_biases.npy and the optimiser state under LightFM's attribute names; \
      user_representations.npy / item_representations.npy (users or items x d: the embeddings \
      summed through the feature matrices, as LightFM's get_*_representations) with \
      user_representation_biases.npy / item_representation_biases.npy; user_ids.txt, \
      item_ids.txt, user_features.txt and item_features.txt (one per line, in index order); \
      user_feature_matrix.npz / item_feature_matrix.npz (the scipy sparse feature matrix, only \
      when the model has features beyond the identity); and model.json (hyper-parameters and \
      shapes). `lightfm import` reads the directory back into a model file.

      The files are written into a fresh directory beside DIR and then moved into place, so a \
      failed export leaves nothing behind. An existing DIR must be empty unless --force is \
      given; even then only the files named above are replaced, and nothing else in DIR is \
      touched.

      In Python: np.load("DIR/item_embeddings.npy"), and ids = open("DIR/item_ids.txt").read() \
      .splitlines().
      """)

  @OptionGroup var model: ModelInput

  @OptionGroup var progress: ProgressOptions

  @Option(
    name: .long,
    help: ArgumentHelp(
      "The directory to write into: created if missing; an existing one must be empty unless "
        + "--force.",
      valueName: "dir"))
  var dir: String

  @Flag(
    name: .long,
    help: "Write into a directory that is not empty, replacing only the files export writes.")
  var force = false

  func run() throws {
    let loaded = try model.load()
    let target = URL(fileURLWithPath: dir).standardizedFileURL
    let fileManager = FileManager.default
    var isDirectory: ObjCBool = false
    let exists = fileManager.fileExists(atPath: target.path, isDirectory: &isDirectory)
    if exists {
      guard isDirectory.boolValue else {
        throw LightFMError(.io, "\(dir): exists and is not a directory; give a directory")
      }
      let contents = try? fileManager.contentsOfDirectory(atPath: target.path)
      guard let contents else {
        throw LightFMError(.io, "\(dir): cannot list the directory")
      }
      guard contents.isEmpty || force else {
        throw LightFMError(
          .io,
          "\(dir): exists and is not empty (\(contents.count) entries); give a new directory, "
            + "or pass --force to replace only the files export writes and keep the rest")
      }
    }
    // A directory of our own beside the target (same file system, so the moves are renames).
    let staging = try makeStagingDirectory(beside: target)
    defer { try? fileManager.removeItem(at: staging) }
    do {
      try write(loaded, into: staging)
      if exists {
        for name in try fileManager.contentsOfDirectory(atPath: staging.path).sorted() {
          try replace(
            target.appendingPathComponent(name), with: staging.appendingPathComponent(name))
        }
      } else {
        try fileManager.moveItem(at: staging, to: target)
      }
    } catch let error as LightFMError {
      throw error
    } catch {
      throw LightFMError(.io, "\(dir): cannot write the export: \(error)")
    }
    Console.note("export: wrote \(dir)")
  }

  /// Creates a new, uniquely named directory next to `target` (`mkdtemp`, so an existing entry
  /// of that name is never reused or removed).
  func makeStagingDirectory(beside target: URL) throws -> URL {
    let template =
      target.deletingLastPathComponent().appendingPathComponent(
        ".\(target.lastPathComponent).export-XXXXXX"
      ).path
    var bytes = Array(template.utf8CString)
    guard let made = mkdtemp(&bytes) else {
      throw LightFMError(
        .io, "\(dir): cannot create a directory beside it: \(String(cString: strerror(errno)))")
    }
    return URL(fileURLWithPath: String(cString: made), isDirectory: true)
  }

  /// Moves one written file over its namesake in the target with `rename(2)`: the file is
  /// replaced atomically, and an entry of that name that is a directory is an error, not removed.
  func replace(_ destination: URL, with source: URL) throws {
    guard rename(source.path, destination.path) == 0 else {
      throw LightFMError(
        .io,
        "\(destination.path): cannot replace it with the exported file: "
          + String(cString: strerror(errno)))
    }
  }

  func write(_ loaded: LoadedModel, into directory: URL) throws {
    let model = loaded.model
    let dataset = loaded.dataset
    for (name, array) in try model.numpyArrays() {
      try array.write(to: directory.appendingPathComponent("\(name).npy"))
    }
    let d = model.noComponents
    for side in Side.allCases {
      let representations =
        side == .user
        ? try model.userRepresentations(features: loaded.userFeatures)
        : try model.itemRepresentations(features: loaded.itemFeatures)
      let rows = representations.biases.count
      try NumpyArray(representations.embeddings, shape: [rows, d]).write(
        to: directory.appendingPathComponent("\(side)_representations.npy"))
      try NumpyArray(representations.biases).write(
        to: directory.appendingPathComponent("\(side)_representation_biases.npy"))
    }
    let lists = Side.allCases.flatMap { side in
      [("\(side)_ids", dataset.ids(side)), ("\(side)_features", dataset.featureNames(side))]
    }
    for (side, matrix) in [(Side.user, loaded.userFeatures), (.item, loaded.itemFeatures)] {
      guard let matrix, !matrix.isIdentity else { continue }
      try ExportLayout.writeNPZ(
        matrix, to: directory.appendingPathComponent(ExportLayout.featureMatrixName(side)))
    }
    for (name, mapping) in lists {
      let text = mapping.ids.map { $0 + "\n" }.joined()
      try AtomicFileWriter.write(
        Array(text.utf8), to: directory.appendingPathComponent("\(name).txt"))
    }
    let fields: [(String, String)] = [
      ("format", jsonString(ExportLayout.format)),
      ("loss", jsonString(model.loss.rawValue)),
      ("learning_schedule", jsonString(model.learningSchedule.rawValue)),
      ("no_components", "\(d)"),
      ("learning_rate", jsonNumber(model.learningRate)),
      ("item_alpha", jsonNumber(model.itemAlpha)),
      ("user_alpha", jsonNumber(model.userAlpha)),
      ("max_sampled", "\(model.maxSampled)"),
      ("k", "\(model.k)"),
      ("n", "\(model.n)"),
      ("rho", jsonNumber(model.rho)),
      ("epsilon", jsonNumber(model.epsilon)),
      ("users", "\(dataset.userIDs.count)"),
      ("items", "\(dataset.itemIDs.count)"),
      ("user_features", "\(dataset.userFeatureNames.count)"),
      ("item_features", "\(dataset.itemFeatureNames.count)"),
    ]
    let json =
      "{\n" + fields.map { "  \(jsonString($0.0)): \($0.1)" }.joined(separator: ",\n")
      + "\n}\n"
    try AtomicFileWriter.write(
      Array(json.utf8), to: directory.appendingPathComponent("model.json"))
  }
}
