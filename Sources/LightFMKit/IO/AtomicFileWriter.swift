import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes a file so that it appears whole or not at all.
///
/// Bytes go to a hidden temporary file in the destination's directory; `commit()` flushes it to
/// disk and renames it over the destination (an atomic step on POSIX file systems). If anything
/// fails before that, or the writer is dropped without committing, the temporary file is removed
/// and a previous file at the destination is untouched.
public final class AtomicFileWriter {
  /// Where the file will appear.
  public let destination: URL
  private let temporaryPath: String
  private var descriptor: Int32
  private var buffer: [UInt8] = []
  private var committed = false

  /// Creates the temporary file next to `destination`.
  ///
  /// - Throws: `LightFMError` (`.io`) when the directory is missing or not writable.
  public init(destination: URL) throws {
    self.destination = destination
    let directory = destination.deletingLastPathComponent().path
    let name =
      ".\(destination.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    temporaryPath = (directory as NSString).appendingPathComponent(name)
    descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw LightFMError(
        .io, "cannot write \(destination.path): \(String(cString: strerror(errno)))")
    }
    buffer.reserveCapacity(1 << 16)
  }

  deinit {
    if !committed { abort() }
  }

  /// Appends bytes (buffered).
  public func write(_ bytes: some Sequence<UInt8>) throws {
    buffer.append(contentsOf: bytes)
    if buffer.count >= 1 << 16 { try flush() }
  }

  /// Appends the UTF-8 bytes of `text`.
  public func write(_ text: String) throws {
    try write(text.utf8)
  }

  /// Writes the buffered bytes to the temporary file.
  public func flush() throws {
    var offset = 0
    while offset < buffer.count {
      let n = buffer.withUnsafeBytes { raw in
        posixWrite(descriptor, raw.baseAddress! + offset, raw.count - offset)
      }
      if n < 0 {
        if errno == EINTR { continue }
        throw LightFMError(
          .io, "cannot write \(destination.path): \(String(cString: strerror(errno)))")
      }
      offset += n
    }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Flushes, syncs and renames the temporary file over the destination.
  public func commit() throws {
    precondition(!committed, "commit() called twice")
    try flush()
    if fsync(descriptor) != 0 {
      throw LightFMError(
        .io, "cannot write \(destination.path): \(String(cString: strerror(errno)))")
    }
    close(descriptor)
    descriptor = -1
    if rename(temporaryPath, destination.path) != 0 {
      let reason = String(cString: strerror(errno))
      unlink(temporaryPath)
      committed = true
      throw LightFMError(.io, "cannot write \(destination.path): \(reason)")
    }
    committed = true
  }

  /// Removes the temporary file; the destination is left as it was.
  public func abort() {
    if descriptor >= 0 {
      close(descriptor)
      descriptor = -1
    }
    if !committed { unlink(temporaryPath) }
    committed = true
  }

  /// Writes `bytes` to `url` atomically.
  public static func write(_ bytes: [UInt8], to url: URL) throws {
    let writer = try AtomicFileWriter(destination: url)
    try writer.write(bytes)
    try writer.commit()
  }
}

@inline(__always)
private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
  write(fd, p, n)
}

/// Reads a whole file into memory through `InputFile`.
///
/// - Throws: `LightFMError` (`.io`) naming the file when it is missing, a directory or
///   unreadable, or larger than `limits` allows.
package func readFileBytes(_ url: URL, limits: LoadLimits = .default) throws -> [UInt8] {
  try readFileBytes(url.path, limits: limits)
}
