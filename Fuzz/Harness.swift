// libFuzzer harnesses for the readers of untrusted input, built by scripts/fuzz together with
// LightFMKit's sources into one instrumented binary (swiftc -sanitize=fuzzer,address). The
// target is chosen by LIGHTFM_FUZZ_TARGET: model, npy, npz, text or features.
//
// A harness passes when the reader returns a value or throws LightFMError; a trap, a sanitizer
// report, a leak or a run over libFuzzer's memory or time limits is a finding.
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The budget every reader gets: far below libFuzzer's 2 GB RSS limit, so that an input that
/// asks for more must be refused by the budget check rather than allocated.
let fuzzLimits = LoadLimits(maxBytes: 64 << 20)

enum FuzzTarget: String, CaseIterable {
  case model, npy, npz, text, features
}

nonisolated(unsafe) var target = FuzzTarget.text

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
  _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
) -> Int32 {
  // getenv and strcmp, no Swift strings kept: LeakSanitizer reports a string made here.
  let name = getenv("LIGHTFM_FUZZ_TARGET")
  guard let name, let chosen = FuzzTarget.allCases.first(where: { strcmp($0.rawValue, name) == 0 })
  else {
    fputs("set LIGHTFM_FUZZ_TARGET to model, npy, npz, text or features\n", stderr)
    exit(2)
  }
  target = chosen
  if let directory = getenv("LIGHTFM_FUZZ_WRITE_MODEL_SEEDS").map({ String(cString: $0) }) {
    do {
      try writeModelSeeds(to: directory)
      exit(0)
    } catch {
      fputs("cannot write model seeds: \(error)\n", stderr)
      exit(1)
    }
  }
  return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
  do {
    switch target {
    case .model: try fuzzModel(bytes)
    case .npy: try fuzzNPY(bytes)
    case .npz: try fuzzNPZ(bytes)
    case .text: try fuzzText(bytes)
    case .features: try fuzzFeatures(bytes)
    }
  } catch is LightFMError {
    // A clear error is the right answer to a bad file.
  } catch {
    fatalError("a reader threw something other than LightFMError: \(error)")
  }
  return 0
}

/// The model loader, on the bytes as given and, so that mutations get past the checksum, on
/// the bytes with the payload length and CRC-32 trailer made consistent.
func fuzzModel(_ bytes: [UInt8]) throws {
  _ = try? ModelFile.decode(bytes, file: "fuzz.lfm")
  let headerSize = ModelFile.headerSize
  guard bytes.count >= headerSize + 4 else { return }
  var fixed = bytes
  let length = UInt64(bytes.count - headerSize - 4)
  for k in 0..<8 {
    fixed[ModelFile.magic.count + 4 + k] = UInt8(truncatingIfNeeded: length >> (8 * k))
  }
  let crc = fixed.withUnsafeBytes {
    CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(fixed.count - 4)]))
  }
  for k in 0..<4 { fixed[fixed.count - 4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * k)) }
  _ = try ModelFile.decode(fixed, file: "fuzz.lfm")
}

func fuzzNPY(_ bytes: [UInt8]) throws {
  let array = try NumpyArray(npyBytes: bytes, file: "fuzz.npy", limits: fuzzLimits)
  if array.count <= 1 << 16 { _ = array.npyBytes() }
}

func fuzzNPZ(_ bytes: [UInt8]) throws {
  _ = try? NPZ.readArrays(bytes: bytes, file: "fuzz.npz", limits: fuzzLimits)
  _ = try NPZ.readSparseMatrix(bytes: bytes, file: "fuzz.npz", limits: fuzzLimits)
}

func fuzzText(_ bytes: [UInt8]) throws {
  _ = try? DelimitedText.parseRows(bytes, file: "fuzz.txt")
  _ = try? DelimitedText.parseIDs(bytes, file: "fuzz.txt")
  // The first byte, when it is a control character, picks a delimiter and header setting.
  var delimiter: Delimiter?
  var header: Bool?
  var text = bytes
  if let first = bytes.first, first < 8 {
    delimiter = first & 4 == 0 ? nil : Delimiter.allCases[Int(first) % Delimiter.allCases.count]
    header = first & 1 == 0 ? nil : first & 2 != 0
    text.removeFirst()
  }
  _ = try DelimitedText.parseInteractions(
    text, file: "fuzz.txt", delimiter: delimiter, header: header)
}

/// A feature file, then the feature matrix built from it as `lightfm fit` does.
func fuzzFeatures(_ bytes: [UInt8]) throws {
  let file = try DelimitedText.parseFeatures(bytes, file: "fuzz.txt")
  var seen = Set<String>()
  let ids = file.records.map(\.id).filter { seen.insert($0).inserted }
  seen = []
  let names = file.records.flatMap { $0.features.map(\.name) }.filter { seen.insert($0).inserted }
  var dataset = Dataset()
  try dataset.fit(users: ids, items: ["item"], userFeatures: names)
  let rows = file.records.map { r in (r.id, r.features.map { ($0.name, $0.weight) }) }
  _ = try dataset.buildUserFeatures(rows)
}

/// Writes small valid model files (with and without mappings and feature matrices) as seeds.
func writeModelSeeds(to directory: String) throws {
  try FileManager.default.createDirectory(
    atPath: directory, withIntermediateDirectories: true)
  var dataset = Dataset()
  try dataset.fit(
    users: ["u1", "u2", "u3"], items: ["i1", "i2"], userFeatures: ["f"])
  let (interactions, _) = try dataset.buildInteractions([
    ("u1", "i1", Float(1)), ("u2", "i2", 1), ("u3", "i1", 1),
  ])
  let userFeatures = try dataset.buildUserFeatures([("u1", ["f"]), ("u2", ["f"])])
  for (n, loss) in [LightFM.Loss.warp, .bpr, .logistic].enumerated() {
    var model = LightFM(noComponents: 2 + n, loss: loss, randomState: UInt64(n))
    try model.fit(interactions, userFeatures: userFeatures, epochs: 1, numThreads: 1)
    let url = URL(fileURLWithPath: directory).appendingPathComponent("model-\(n).lfm")
    try model.save(to: url, dataset: n == 2 ? nil : dataset, userFeatures: userFeatures)
  }
}
