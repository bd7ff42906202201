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
  let input = try OpenInput(path)
  if input.isArchive { return .archive(path: path) }
  return .bytes(try input.readAll(), name: input.name)
}

/// An input file argument opened for reading: `-` is standard input; a regular file, a pipe, a
/// process substitution or a device is read with read(2) until its end.
final class OpenInput {
  /// The path as given.
  let path: String
  /// The path, or `<stdin>`, for messages.
  let name: String
  /// The size of a regular file, else `nil`.
  let size: Int?
  /// Whether a regular file named by its path starts as a zip archive does (a scipy `.npz`,
  /// left to the reader that seeks in it). Standard input is told by its bytes.
  let isArchive: Bool
  private let fd: Int32

  /// Opens `path`.
  ///
  /// - Throws: `LightFMError` (`.io`) naming the path when it is missing, a directory or
  ///   unreadable; a second `-`.
  init(_ path: String) throws {
    self.path = path
    name = path == "-" ? "<stdin>" : path
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
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      let code = errno
      if fd != STDIN_FILENO { close(fd) }
      throw inputError(name, code)
    }
    let kind = info.st_mode & S_IFMT
    if kind == S_IFDIR {
      if fd != STDIN_FILENO { close(fd) }
      throw LightFMError(.io, "\(name): is a directory, not a file")
    }
    size = kind == S_IFREG ? Int(info.st_size) : nil
    var archive = false
    if let size, size >= 4, path != "-" {
      var head = [UInt8](repeating: 0, count: 4)
      let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 4, 0) }
      archive = n == 4 && head == zipMagic
    }
    isArchive = archive
    self.fd = fd
  }

  deinit { if fd != STDIN_FILENO { close(fd) } }

  /// Fills as much of `buffer` as the input has left; returns the count, 0 at its end.
  func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    guard let base = buffer.baseAddress else { return 0 }
    var filled = 0
    while filled < buffer.count {
      let n = systemRead(fd, base + filled, buffer.count - filled)
      if n < 0 {
        if errno == EINTR { continue }
        throw inputError(name, errno)
      }
      if n == 0 { break }
      filled += n
    }
    return filled
  }

  /// Reads the input to its end (`prefix` is what was already read of it): a regular file's
  /// `size` bytes (more if it grew), or a stream chunk by chunk; progress is counted in bytes
  /// against `size`.
  func readAll(after prefix: [UInt8] = []) throws -> [UInt8] {
    let progress = ProgressLine("loading \(name)", total: size, unit: .bytes)
    defer { progress.finish() }
    let chunk = 1 << 22
    let limits = LoadLimits.default
    if let size { try limits.require(count: size, size: 1, "reading \(name)") }
    // One byte more than the size, so that the end of the file is seen without growing.
    var bytes = [UInt8](repeating: 0, count: max(size ?? chunk, prefix.count) + 1)
    bytes.replaceSubrange(0..<prefix.count, with: prefix)
    var filled = prefix.count
    while true {
      if filled == bytes.count {
        try limits.require(count: 2 * bytes.count, size: 1, "reading \(name)")
        bytes += [UInt8](repeating: 0, count: bytes.count)
      }
      let n = try bytes.withUnsafeMutableBytes { buffer in
        try read(
          into: UnsafeMutableRawBufferPointer(
            rebasing: buffer[filled..<min(filled + chunk, buffer.count)]))
      }
      if n == 0 { break }
      filled += n
      progress.update(filled)
    }
    bytes.removeLast(bytes.count - filled)
    return bytes
  }
}

@inline(__always)
private func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int {
  read(fd, p, n)
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
