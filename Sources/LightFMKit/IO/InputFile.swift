import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file opened for reading through error-checked POSIX calls (`open`, `fstat`, `pread`), so
/// that a directory, a missing or unreadable file, or a failing read is a `LightFMError` naming
/// the path rather than a trap.
package final class InputFile {
  package let path: String
  private let descriptor: Int32
  /// The size when the file is a regular file, else `nil` (a pipe or a device).
  package let size: Int?

  /// Opens `path`.
  ///
  /// - Throws: `LightFMError` (`.io`) naming the path when it is missing, a directory, or
  ///   cannot be opened.
  package init(path: String) throws {
    self.path = path
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      let code = errno
      if code == ENOENT { throw LightFMError(.io, "\(path): no such file") }
      throw LightFMError(.io, "\(path): cannot open: \(String(cString: strerror(code)))")
    }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw LightFMError(.io, "\(path): cannot read: \(reason)")
    }
    switch info.st_mode & S_IFMT {
    case S_IFDIR:
      close(fd)
      throw LightFMError(.io, "\(path): is a directory, not a file")
    case S_IFREG:
      size = Int(info.st_size)
    default:
      size = nil
    }
    descriptor = fd
  }

  deinit { close(descriptor) }

  private func failure(_ code: Int32) -> LightFMError {
    LightFMError(.io, "\(path): cannot read: \(String(cString: strerror(code)))")
  }

  /// Reads up to `buffer.count` bytes at `offset` (or at the current position when `nil`);
  /// returns how many, 0 at the end of the file.
  package func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int?) throws -> Int {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
    var filled = 0
    while filled < buffer.count {
      let n =
        offset.map { pread(descriptor, base + filled, buffer.count - filled, off_t($0 + filled)) }
        ?? systemRead(descriptor, base + filled, buffer.count - filled)
      if n < 0 {
        if errno == EINTR { continue }
        throw failure(errno)
      }
      if n == 0 { break }
      filled += n
    }
    return filled
  }

  /// Fills `buffer` from `offset`; a short read is an error saying what was expected.
  package func readExactly(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
    let n = try read(into: buffer, at: offset)
    guard n == buffer.count else {
      throw LightFMError(
        .io,
        "\(path): cannot read: the file ended at \(offset + n) bytes, expected "
          + "\(offset + buffer.count) (it changed while being read?)")
    }
  }

  /// Every byte of the file, refused when it needs more than `limits` allows.
  package func readAll(limits: LoadLimits) throws -> [UInt8] {
    if let size {
      try limits.require(count: size, size: 1, "reading \(path)")
      let bytes = try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
        initialized = 0
        let n = try read(into: UnsafeMutableRawBufferPointer(buffer), at: 0)
        initialized = n
      }
      return bytes
    }
    // A pipe or device: read in chunks until the end, within the budget.
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = try chunk.withUnsafeMutableBytes { try read(into: $0, at: nil) }
      if n == 0 { break }
      try limits.require(count: bytes.count + n, size: 1, "reading \(path)")
      bytes.append(contentsOf: chunk[0..<n])
    }
    return bytes
  }
}

@inline(__always)
private func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int {
  read(fd, p, n)
}

/// Reads a whole file into memory.
///
/// - Throws: `LightFMError` (`.io`) naming the file when it is missing, a directory or
///   unreadable, or when it is larger than `limits` allows.
package func readFileBytes(_ path: String, limits: LoadLimits = .default) throws -> [UInt8] {
  try InputFile(path: path).readAll(limits: limits)
}

/// Reads the whole file at `url` into memory.
///
/// - Throws: `LightFMError` (`.io`) naming the file when it is missing, a directory or
///   unreadable, or larger than `limits` allows.
package func readFileBytes(_ url: URL, limits: LoadLimits = .default) throws -> [UInt8] {
  try readFileBytes(url.path, limits: limits)
}
