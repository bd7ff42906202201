import Foundation

/// A model read back from a `.lfm` file: the estimator with its learned state, the id and feature
/// mappings it was trained with, and the feature matrices when they were not identities.
public struct SavedModel: Sendable {
  /// The hyper-parameters and, when it was fitted, every parameter and optimiser accumulator.
  public var model: LightFM
  /// The id and feature-name mappings, when they were saved.
  public var dataset: Dataset?
  /// The user-feature matrix the model was trained with; `nil` means the identity.
  public var userFeatures: CSRMatrix?
  /// The item-feature matrix the model was trained with; `nil` means the identity.
  public var itemFeatures: CSRMatrix?

  /// A model with the mappings and feature matrices to save with it.
  public init(
    model: LightFM, dataset: Dataset? = nil,
    userFeatures: CSRMatrix? = nil, itemFeatures: CSRMatrix? = nil
  ) {
    self.model = model
    self.dataset = dataset
    self.userFeatures = userFeatures
    self.itemFeatures = itemFeatures
  }
}

/// The `.lfm` model file: a versioned little-endian binary format.
///
/// ```
/// offset  size  field
/// 0       8     magic  89 'L' 'F' 'M' 0D 0A 1A 0A
/// 8       4     format version (UInt32), currently 1
/// 12      8     payload length P (UInt64)
/// 20      P     payload: hyper-parameters, training generator, mappings, feature matrices,
///               parameter arrays and optimiser state
/// 20+P    4     CRC-32 of bytes 0 ..< 20+P
/// ```
///
/// Floats are stored as their IEEE-754 bit patterns, so a loaded model predicts bit for bit as
/// the saved one; the training generator's state is stored too, so `fitPartial` after `load`
/// continues exactly as it would have without the round trip. Files are written to a temporary
/// file in the same directory and renamed, so a failed save never leaves a half-written file or
/// destroys the previous one.
enum ModelFile {
  static let magic: [UInt8] = [0x89, 0x4C, 0x46, 0x4D, 0x0D, 0x0A, 0x1A, 0x0A]
  /// The newest format version this build reads and the one it writes.
  static let formatVersion: UInt32 = 1
  static let headerSize = 20

  // MARK: - Writing

  static func encode(_ saved: SavedModel) throws -> [UInt8] {
    try validate(saved)
    return serialize(saved)
  }

  /// The file bytes of `saved`, checksum included, without checking that its parts agree.
  static func serialize(_ saved: SavedModel) -> [UInt8] {
    var payload = ByteWriter()
    let model = saved.model
    payload.string(model.loss.rawValue)
    payload.string(model.learningSchedule.rawValue)
    payload.int(model.noComponents)
    payload.int(model.k)
    payload.int(model.n)
    payload.float(model.learningRate)
    payload.float(model.rho)
    payload.float(model.epsilon)
    payload.float(model.itemAlpha)
    payload.float(model.userAlpha)
    payload.int(model.maxSampled)
    payload.uint8(model.randomState == nil ? 0 : 1)
    payload.uint64(model.randomState ?? 0)
    payload.uint8(model.generator == nil ? 0 : 1)
    for word in model.generator?.state ?? [0, 0, 0, 0] { payload.uint64(word) }

    payload.uint8(saved.dataset == nil ? 0 : 1)
    if let dataset = saved.dataset {
      payload.uint8(dataset.userIdentityFeatures ? 1 : 0)
      payload.uint8(dataset.itemIdentityFeatures ? 1 : 0)
      for mapping in [
        dataset.userIDs, dataset.itemIDs, dataset.userFeatureNames, dataset.itemFeatureNames,
      ] {
        payload.int(mapping.count)
        for id in mapping.ids { payload.string(id) }
      }
    }
    for matrix in [saved.userFeatures, saved.itemFeatures] {
      payload.uint8(matrix == nil ? 0 : 1)
      guard let matrix else { continue }
      payload.int(matrix.shape.rows)
      payload.int(matrix.shape.columns)
      payload.int(matrix.nnz)
      for p in matrix.rowPointers { payload.int(p) }
      for c in matrix.columnIndices { payload.uint32(UInt32(bitPattern: c)) }
      payload.floats(matrix.values)
    }

    payload.uint8(model.parameters == nil ? 0 : 1)
    if let p = model.parameters {
      payload.int(p.noComponents)
      payload.int(p.userFeatureCount)
      payload.int(p.itemFeatureCount)
      for (side, array) in SideArray.fileOrder {
        payload.int(p[side][array].count)
        payload.floats(p[side][array])
      }
    }

    var file = ByteWriter()
    file.bytes(magic)
    file.uint32(formatVersion)
    file.uint64(UInt64(payload.bytes.count))
    file.bytes(payload.bytes)
    file.uint32(CRC32.checksum(file.bytes))
    return file.bytes
  }

  /// Checks that the parts agree with each other (mappings, matrices and parameter counts).
  static func validate(_ saved: SavedModel) throws {
    let p = saved.model.parameters
    if let dataset = saved.dataset, p != nil,
      dataset.userIDs.count == 0 || dataset.itemIDs.count == 0
    {
      throw LightFMError.invalidData(
        "the dataset has \(dataset.userIDs.count) users and \(dataset.itemIDs.count) items: a "
          + "fitted model needs at least one of each")
    }
    if let dataset = saved.dataset, let p {
      guard dataset.userFeatureNames.count == p.userFeatureCount,
        dataset.itemFeatureNames.count == p.itemFeatureCount
      else {
        throw LightFMError.invalidData(
          "the dataset maps \(dataset.userFeatureNames.count) user and "
            + "\(dataset.itemFeatureNames.count) item features, the model has "
            + "\(p.userFeatureCount) and \(p.itemFeatureCount): it was fitted on other data")
      }
    }
    for side in Side.allCases {
      let matrix = side == .user ? saved.userFeatures : saved.itemFeatures
      let ids = saved.dataset.map { side == .user ? $0.userIDs.count : $0.itemIDs.count }
      let features = p?[side].featureCount
      if let matrix, let features {
        try LightFM.checkFeatureMatrix(matrix, side: side, features: features)
      }
      if let matrix, let ids, matrix.shape.rows != ids {
        throw LightFMError.invalidData(
          "the \(side)-feature matrix has \(matrix.shape.rows) rows, the dataset \(ids) "
            + "\(side.plural)")
      }
      // Without a matrix the model scores one identity row per feature, named by the dataset's
      // ids: each row needs an id, and each id a row.
      if matrix == nil, let features, let ids, features != ids {
        throw LightFMError.invalidData(
          "the model has \(features) \(side) features and no \(side)-feature matrix (identity "
            + "features), but the dataset has \(ids) \(side.plural): expected one per feature")
      }
    }
  }

  // MARK: - Reading

  static func decode(_ bytes: [UInt8], file: String) throws -> SavedModel {
    let corrupt: @Sendable (String) -> LightFMError = { message in
      LightFMError(.corruptModel, "\(file): \(message)")
    }
    guard !bytes.isEmpty else { throw corrupt("the file is empty: not a lightfm model") }
    if bytes.count < magic.count && magic.starts(with: bytes) {
      throw corrupt("truncated model file: only \(bytes.count) bytes")
    }
    guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
      throw corrupt("not a lightfm model file (it does not start with the .lfm magic number)")
    }
    var header = ByteReader(
      bytes, offset: magic.count,
      failure: { message in
        corrupt("truncated model file: \(message)")
      })
    let version = try header.uint32("format version")
    guard version >= 1 else { throw corrupt("invalid format version 0") }
    guard version <= formatVersion else {
      throw corrupt(
        "written in model format version \(version); this lightfm reads versions up to "
          + "\(formatVersion): upgrade lightfm to load it")
    }
    let length = try header.uint64("payload length")
    let expected = UInt64(headerSize) &+ length &+ 4
    guard length < UInt64(Int.max / 2), expected <= UInt64(bytes.count) else {
      throw corrupt(
        "truncated model file: the header promises \(expected) bytes, the file has \(bytes.count)")
    }
    guard expected == UInt64(bytes.count) else {
      throw corrupt(
        "the file has \(UInt64(bytes.count) - expected) unexpected bytes after the model "
          + "(expected \(expected) bytes)")
    }
    let end = headerSize + Int(length)
    header.offset = end
    let stored = try header.uint32("checksum")
    let actual = bytes.withUnsafeBytes {
      CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<end]))
    }
    guard stored == actual else {
      throw corrupt(
        "checksum mismatch: the model file is corrupted (damaged on disk or in transfer)")
    }

    var r = ByteReader(
      bytes[headerSize..<end],
      failure: { message in
        corrupt("malformed model payload: \(message)")
      })
    let lossName = try r.string("loss")
    let scheduleName = try r.string("learning schedule")
    guard let loss = LightFM.Loss(rawValue: lossName) else {
      throw corrupt("unknown loss '\(lossName)'")
    }
    guard let schedule = LightFM.LearningSchedule(rawValue: scheduleName) else {
      throw corrupt("unknown learning schedule '\(scheduleName)'")
    }
    var model = LightFM(
      noComponents: try r.int("noComponents"), k: try r.int("k"), n: try r.int("n"),
      learningSchedule: schedule, loss: loss,
      learningRate: try r.float("learningRate"), rho: try r.float("rho"),
      epsilon: try r.float("epsilon"), itemAlpha: try r.float("itemAlpha"),
      userAlpha: try r.float("userAlpha"), maxSampled: try r.int("maxSampled"))
    let hasSeed = try r.flag("randomState flag")
    let seed = try r.uint64("randomState")
    model.randomState = hasSeed ? seed : nil
    let hasGenerator = try r.flag("generator flag")
    var words: [UInt64] = []
    for n in 0..<4 { words.append(try r.uint64("generator word \(n)")) }
    if hasGenerator {
      guard let generator = TrainingRNG(state: words) else {
        throw corrupt("the stored training generator state is all zero")
      }
      model.generator = generator
    }
    do {
      try model.validateHyperParameters()
    } catch let error as LightFMError {
      throw corrupt("stored hyper-parameters are invalid: \(error.message)")
    }

    var dataset: Dataset?
    if try r.flag("dataset flag") {
      let userIdentity = try r.flag("user identity flag")
      let itemIdentity = try r.flag("item identity flag")
      var mappings: [IDMapping] = []
      for name in ["user ids", "item ids", "user feature names", "item feature names"] {
        let count = try r.count("number of \(name)", elementSize: 8)
        var mapping = IDMapping()
        for _ in 0..<count { mapping.insert(try r.string(name)) }
        guard mapping.count == count else { throw corrupt("\(name) repeat an entry") }
        mappings.append(mapping)
      }
      dataset = Dataset(
        userIDs: mappings[0], itemIDs: mappings[1],
        userFeatureNames: mappings[2], itemFeatureNames: mappings[3],
        userIdentityFeatures: userIdentity, itemIdentityFeatures: itemIdentity)
    }
    var matrices: [CSRMatrix?] = []
    for side in Side.allCases {
      guard try r.flag("\(side)-feature matrix flag") else {
        matrices.append(nil)
        continue
      }
      let rows = try r.count("\(side)-feature rows", elementSize: 8)
      let columns = try r.int("\(side)-feature columns")
      guard columns <= Int(Int32.max) else {
        throw corrupt("the \(side)-feature matrix has \(columns) columns, more than 32-bit indices")
      }
      let nnz = try r.count("\(side)-feature entries", elementSize: 8)
      try r.require((rows + 1) * 8, "\(side)-feature row pointers")
      var pointers: [Int] = []
      pointers.reserveCapacity(rows + 1)
      for _ in 0...rows { pointers.append(try r.int("row pointer")) }
      try r.require(nnz * 4, "\(side)-feature column indices")
      var columnIndices: [Int32] = []
      columnIndices.reserveCapacity(nnz)
      for _ in 0..<nnz { columnIndices.append(Int32(bitPattern: try r.uint32("column index"))) }
      let values = try r.floats(nnz, "\(side)-feature values")
      do {
        matrices.append(
          try CSRMatrix(
            rows: rows, columns: columns, rowPointers: pointers, columnIndices: columnIndices,
            values: values))
      } catch let error as LightFMError {
        throw corrupt("stored \(side)-feature matrix is invalid: \(error.message)")
      }
    }

    if try r.flag("parameters flag") {
      model.parameters = try readParameters(
        &r, noComponents: model.noComponents, corrupt: corrupt)
    }
    guard r.remaining == 0 else { throw corrupt("\(r.remaining) unread bytes in the payload") }
    let saved = SavedModel(
      model: model, dataset: dataset, userFeatures: matrices[0], itemFeatures: matrices[1])
    do {
      try validate(saved)
    } catch let error as LightFMError {
      throw corrupt("inconsistent model file: \(error.message)")
    }
    return saved
  }
}

extension ModelFile {
  /// Reads the parameter arrays after checking every count against the others and the whole
  /// size against the bytes left, with checked arithmetic, before allocating anything.
  static func readParameters(
    _ r: inout ByteReader, noComponents: Int, corrupt: (String) -> LightFMError
  ) throws -> ModelParameters {
    let d = try r.int("noComponents")
    guard d == noComponents else {
      throw corrupt(
        "the parameters have \(d) components, the hyper-parameters \(noComponents)")
    }
    var counts: [Int] = []
    for side in Side.allCases {
      let count = try r.int("\(side) feature count")
      guard count >= 1 else {
        throw corrupt("the model has 0 \(side) features: a fitted model has at least one")
      }
      counts.append(count)
    }
    // Each array is stored as an 8-byte length, then 4 bytes per value.
    var needed: Int? = 0
    for (side, array) in SideArray.fileOrder {
      let count = counts[side == .user ? 0 : 1]
      let bytes = checkedProduct(count, array.perComponent ? d : 1, 4)
      needed = needed.flatMap { checkedSum($0, 8, bytes) }
    }
    guard let needed, needed <= r.remaining else {
      throw corrupt(
        "the parameters (d \(d), \(counts[0]) user and \(counts[1]) item features) need "
          + "\(needed.map(String.init) ?? "more than \(Int.max)") bytes, the file has "
          + "\(r.remaining) left")
    }
    var p = ModelParameters(
      noComponents: d, userFeatureCount: counts[0], itemFeatureCount: counts[1])
    for (side, array) in SideArray.fileOrder {
      let name = "\(side)_\(array.exportName)"
      let count = p[side][array].count
      let stored = try r.count("length of \(name)", elementSize: 4)
      guard stored == count else {
        throw corrupt("parameter array \(name) has \(stored) values, expected \(count)")
      }
      p[side][array] = try r.floats(count, name)
      try checkValues(p[side][array], name: name, array: array, d: d, corrupt: corrupt)
    }
    let extent = ParameterExtent(p)
    if extent.ranAway {
      throw corrupt(
        "the parameters ran away: scores can reach \(extent.scoreBound) (\(extent.description)), "
          + "past the limit of \(LightFM.scoreLimit) that training enforces; refit the model with "
          + "a lower learning rate")
    }
    return p
  }

  /// Refuses a parameter array with a value that no training leaves: NaN or infinite.
  ///
  /// A model whose parameters are NaN would otherwise load and score every item NaN, which
  /// `recommend` lists as nothing.
  static func checkValues(
    _ values: [Float], name: String, array: SideArray, d: Int,
    corrupt: (String) -> LightFMError
  ) throws {
    guard let n = values.firstIndex(where: { !$0.isFinite }) else { return }
    let position = array.perComponent ? "feature \(n / d), component \(n % d)" : "feature \(n)"
    throw corrupt(
      "parameter array \(name) holds \(values[n]) at index \(n) (\(position)), which is not "
        + "a finite number: the model diverged before it was saved, or the file was altered; "
        + "refit it")
  }
}

/// `a · b · c`, or `nil` when it overflows.
func checkedProduct(_ a: Int, _ b: Int, _ c: Int) -> Int? {
  let (ab, o1) = a.multipliedReportingOverflow(by: b)
  let (abc, o2) = ab.multipliedReportingOverflow(by: c)
  return o1 || o2 ? nil : abc
}

/// `a + b + c`, or `nil` when it overflows or `c` is `nil`.
func checkedSum(_ a: Int, _ b: Int, _ c: Int?) -> Int? {
  guard let c else { return nil }
  let (ab, o1) = a.addingReportingOverflow(b)
  let (abc, o2) = ab.addingReportingOverflow(c)
  return o1 || o2 ? nil : abc
}

// MARK: - Public API

extension LightFM {
  /// Saves the model, its mappings and its feature matrices to a `.lfm` file.
  ///
  /// The file is written to a temporary file in the same directory, then renamed over `url`: a
  /// failure never leaves a partial file, and never destroys a previous file at `url`.
  ///
  /// - Parameters:
  ///   - url: the file to write; an existing file is replaced only when the write succeeds.
  ///   - dataset: the mappings the model was fitted with (ids and feature names).
  ///   - userFeatures: the user-feature matrix it was trained with; `nil` for the identity.
  ///   - itemFeatures: the item-feature matrix it was trained with; `nil` for the identity.
  /// - Throws: `LightFMError` (`.invalidData`) when the dataset or matrices do not match the
  ///   model's feature counts, (`.io`) when the file cannot be written.
  /// - Complexity: O(parameters + mappings + matrix entries).
  public func save(
    to url: URL, dataset: Dataset?, userFeatures: CSRMatrix? = nil, itemFeatures: CSRMatrix? = nil
  ) throws {
    let saved = SavedModel(
      model: self, dataset: dataset, userFeatures: userFeatures, itemFeatures: itemFeatures)
    try AtomicFileWriter.write(try ModelFile.encode(saved), to: url)
  }

  /// Loads a model saved with `save(to:dataset:userFeatures:itemFeatures:)`.
  ///
  /// - Throws: `LightFMError` (`.corruptModel`) naming the file when it is not a model file, is
  ///   truncated, fails its checksum or comes from a newer format version; (`.io`) when it cannot
  ///   be read.
  public static func load(from url: URL) throws -> SavedModel {
    try ModelFile.decode(try readFileBytes(url), file: url.path)
  }

  /// Reads a model from the bytes of a `.lfm` file (read from a pipe or standard input, say);
  /// `file` names it in errors.
  ///
  /// - Throws: as `load(from:)`.
  public static func load(bytes: [UInt8], file: String) throws -> SavedModel {
    try ModelFile.decode(bytes, file: file)
  }
}

// MARK: - Strings and small values

extension ByteWriter {
  /// A UTF-8 string: its byte count (UInt32), then the bytes.
  mutating func string(_ s: String) {
    uint32(UInt32(s.utf8.count))
    bytes(s.utf8)
  }
}

extension ByteReader {
  mutating func string(_ what: @autoclosure () -> String) throws -> String {
    let name = what()
    let length = Int(try uint32("length of \(name)"))
    let raw = try bytes(length, name)
    guard let s = String(validating: raw, as: UTF8.self) else {
      throw failure("\(name) is not valid UTF-8")
    }
    return s
  }

  mutating func int(_ what: @autoclosure () -> String) throws -> Int {
    let name = what()
    let v = try uint64(name)
    guard v <= UInt64(Int32.max) * UInt64(Int32.max) else {
      throw failure("\(name) \(v) is out of range")
    }
    return Int(v)
  }

  mutating func float(_ what: @autoclosure () -> String) throws -> Float {
    Float(bitPattern: try uint32(what()))
  }

  mutating func flag(_ what: @autoclosure () -> String) throws -> Bool {
    let name = what()
    switch try uint8(name) {
    case 0: return false
    case 1: return true
    case let v: throw failure("\(name) is \(v), expected 0 or 1")
    }
  }
}
