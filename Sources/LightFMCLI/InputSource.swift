import Foundation
import LightFMKit

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What an input file argument holds, read the Unix way: `-` is standard input, and a pipe, a
/// process substitution (`<(zcat file.gz)`) or a device is read with read(2) until its end.
enum InputContent {
  /// A regular file that is a zip archive (a scipy `.npz`), left to the reader that seeks in it.
  case archive(path: String)
  /// The whole content of a text file, a pipe or standard input; `name` names it in messages
  /// (the path, or `<stdin>`).
  case bytes([UInt8], name: String)
}

/// The first bytes of a zip archive.
let zipMagic: [UInt8] = [0x50, 0x4B, 0x03, 0x04]

/// Input file arguments share one standard input: the first `-` reads it, a second is an error.
nonisolated(unsafe) private var standardInputTaken = false

/// Reads the input file argument `path` (see `InputContent`), with a progress line labelled
/// `loading NAME` while it reads.
///
/// - Throws: `LightFMError` (`.io`) naming the path when it is missing, a directory,
///   unreadable, or fails while being read; a second `-`; an input larger than the memory
///   budget (`LoadLimits.default`, `--max-memory`).
func readInput(_ path: String) throws -> InputContent {
  let name = path == "-" ? "<stdin>" : path
  let fd: Int32
  if path == "-" {
    guard !standardInputTaken else {
      throw LightFMError(
        .io, "-: standard input is already read by another argument; give the others as files")
    }
    standardInputTaken = true
    fd = STDIN_FILENO
  } else {
    fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw inputError(path, errno) }
  }
  defer { if fd != STDIN_FILENO { close(fd) } }
  var info = stat()
  guard fstat(fd, &info) == 0 else { throw inputError(name, errno) }
  let kind = info.st_mode & S_IFMT
  if kind == S_IFDIR { throw LightFMError(.io, "\(name): is a directory, not a file") }
  let size = kind == S_IFREG ? Int(info.st_size) : nil
  if let size, size >= 4, path != "-" {
    var head = [UInt8](repeating: 0, count: 4)
    let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 4, 0) }
    if n == 4 && head == zipMagic { return .archive(path: path) }
  }
  return .bytes(try readAll(fd, size: size, name: name), name: name)
}

/// Reads `fd` to its end: a regular file's `size` bytes (more if it grew), or a stream chunk by
/// chunk; progress is counted in bytes against `size`.
private func readAll(_ fd: Int32, size: Int?, name: String) throws -> [UInt8] {
  let progress = ProgressLine("loading \(name)", total: size, unit: .bytes)
  defer { progress.finish() }
  let chunk = 1 << 22
  let limits = LoadLimits.default
  if let size { try limits.require(count: size, size: 1, "reading \(name)") }
  // One byte more than the size, so that the end of the file is seen without growing.
  var bytes = [UInt8](repeating: 0, count: (size ?? chunk) + 1)
  var filled = 0
  while true {
    if filled == bytes.count {
      try limits.require(count: 2 * bytes.count, size: 1, "reading \(name)")
      bytes += [UInt8](repeating: 0, count: bytes.count)
    }
    let n = bytes.withUnsafeMutableBytes { buffer in
      read(fd, buffer.baseAddress! + filled, min(chunk, buffer.count - filled))
    }
    if n < 0 {
      if errno == EINTR { continue }
      throw inputError(name, errno)
    }
    if n == 0 { break }
    filled += n
    progress.update(filled)
  }
  bytes.removeLast(bytes.count - filled)
  return bytes
}

private func inputError(_ name: String, _ code: Int32) -> LightFMError {
  if code == ENOENT { return LightFMError(.io, "\(name): no such file") }
  return LightFMError(.io, "\(name): cannot read: \(String(cString: strerror(code)))")
}

extension InputContent {
  /// The bytes of a text input; an archive (or zip bytes from a pipe) is an error saying what
  /// the argument expects.
  func text(expecting what: String) throws -> (bytes: [UInt8], name: String) {
    switch self {
    case .archive(let path):
      throw LightFMError(.parse, "\(path): is a zip archive (.npz), expected \(what)")
    case .bytes(let bytes, let name):
      if bytes.starts(with: zipMagic) {
        throw LightFMError(.parse, "\(name): is a zip archive (.npz), expected \(what)")
      }
      return (bytes, name)
    }
  }

  /// The sparse matrix of an `.npz` input, or `nil` when the input is text.
  func sparseMatrix() throws -> COOMatrix? {
    switch self {
    case .archive(let path):
      return try NPZ.readSparseMatrix(from: URL(fileURLWithPath: path))
    case .bytes(let bytes, let name):
      guard bytes.starts(with: zipMagic) else { return nil }
      return try NPZ.readSparseMatrix(bytes: bytes, file: name)
    }
  }
}
