import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes a file so that it appears whole or not at all (package-internal: the library's own
/// writers and the `lightfm` tool use it).
///
/// Bytes go to a hidden temporary file in the destination's directory; `commit()` flushes it to
/// disk and renames it over the destination (an atomic step on POSIX file systems). If anything
/// fails before that, or the writer is dropped without committing, the temporary file is removed
/// and a previous file at the destination is untouched.
///
/// Interruptions: the first writer installs handlers for SIGTERM and SIGINT (only where the
/// program left them at their default) that remove every live temporary file and exit with
/// status 128 + the signal. Nothing can run after SIGKILL or a power cut, so temporary files are
/// named `.NAME.lightfm-tmp-PID-RANDOM` (NAME the destination's name, PID the writing process):
/// a new writer for NAME removes those whose process no longer exists.
package final class AtomicFileWriter {
  /// Where the file will appear.
  package let destination: URL
  private let temporaryPath: String
  private var descriptor: Int32
  private var buffer: [UInt8] = []
  private var committed = false

  /// Creates the temporary file next to `destination`.
  ///
  /// - Throws: `LightFMError` (`.io`) when the directory is missing or not writable.
  package init(destination: URL) throws {
    self.destination = destination
    let directory = destination.deletingLastPathComponent().path
    let prefix = ".\(destination.lastPathComponent)\(Self.temporaryMarker)"
    Self.removeStaleTemporaryFiles(in: directory, prefix: prefix)
    let name = "\(prefix)\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    temporaryPath = (directory as NSString).appendingPathComponent(name)
    TemporaryFileRegistry.installHandlers()
    guard TemporaryFileRegistry.register(temporaryPath) else {
      throw LightFMError(
        .io,
        "cannot write \(destination.path): more than \(TemporaryFileRegistry.capacity) files "
          + "are being written at once")
    }
    descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      let reason = String(cString: strerror(errno))
      TemporaryFileRegistry.unregister(temporaryPath)
      throw LightFMError(.io, "cannot write \(destination.path): \(reason)")
    }
    buffer.reserveCapacity(1 << 16)
  }

  /// What follows `.NAME` in a temporary file's name, before `PID-RANDOM`.
  static let temporaryMarker = ".lightfm-tmp-"

  /// Removes `prefix`PID-RANDOM files in `directory` left by processes that no longer exist.
  static func removeStaleTemporaryFiles(in directory: String, prefix: String) {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
      return
    }
    for name in names where name.hasPrefix(prefix) {
      let rest = name.dropFirst(prefix.count)
      guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0,
        UInt32(rest[rest.index(after: dash)...]) != nil
      else { continue }
      if kill(pid, 0) != 0 && errno == ESRCH {
        unlink((directory as NSString).appendingPathComponent(name))
      }
    }
  }

  deinit {
    if !committed { abort() }
  }

  /// Appends bytes (buffered).
  package func write(_ bytes: some Sequence<UInt8>) throws {
    buffer.append(contentsOf: bytes)
    if buffer.count >= 1 << 16 { try flush() }
  }

  /// Appends the UTF-8 bytes of `text`.
  package func write(_ text: String) throws {
    try write(text.utf8)
  }

  /// Writes the buffered bytes to the temporary file.
  package func flush() throws {
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
  package func commit() throws {
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
      TemporaryFileRegistry.unregister(temporaryPath)
      committed = true
      throw LightFMError(.io, "cannot write \(destination.path): \(reason)")
    }
    TemporaryFileRegistry.unregister(temporaryPath)
    committed = true
  }

  /// Removes the temporary file; the destination is left as it was.
  package func abort() {
    if descriptor >= 0 {
      close(descriptor)
      descriptor = -1
    }
    if !committed {
      unlink(temporaryPath)
      TemporaryFileRegistry.unregister(temporaryPath)
    }
    committed = true
  }

  /// Writes `bytes` to `url` atomically.
  package static func write(_ bytes: [UInt8], to url: URL) throws {
    let writer = try AtomicFileWriter(destination: url)
    try writer.write(bytes)
    try writer.commit()
  }
}

/// The temporary files being written, as C strings in fixed slots that a signal handler can
/// read without allocating or locking: on SIGTERM or SIGINT it unlinks each and exits with
/// 128 + the signal (`unlink` and `_exit` are async-signal-safe).
enum TemporaryFileRegistry {
  static let capacity = 64
  static let pathCapacity = Int(PATH_MAX) + 1
  /// `capacity` slots of `pathCapacity` bytes; a slot is live while its first byte is not 0.
  nonisolated(unsafe) static let slots: UnsafeMutablePointer<CChar> = {
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: capacity * pathCapacity)
    p.initialize(repeating: 0, count: capacity * pathCapacity)
    return p
  }()
  private static let lock = NSLock()
  nonisolated(unsafe) private static var installed = false

  /// Records `path`; false when every slot is taken or the path is too long.
  static func register(_ path: String) -> Bool {
    let bytes = Array(path.utf8)
    guard bytes.count < pathCapacity, !bytes.isEmpty else { return false }
    lock.lock()
    defer { lock.unlock() }
    for n in 0..<capacity where slots[n * pathCapacity] == 0 {
      let slot = slots + n * pathCapacity
      // Write the tail first and the first byte last, so the handler never sees half a path.
      for k in 1..<bytes.count { slot[k] = CChar(bitPattern: bytes[k]) }
      slot[bytes.count] = 0
      slot[0] = CChar(bitPattern: bytes[0])
      return true
    }
    return false
  }

  /// Forgets `path` (its file was renamed or removed).
  static func unregister(_ path: String) {
    lock.lock()
    defer { lock.unlock() }
    for n in 0..<capacity where slots[n * pathCapacity] != 0 {
      if String(cString: slots + n * pathCapacity) == path {
        slots[n * pathCapacity] = 0
        return
      }
    }
  }

  /// Installs the SIGTERM and SIGINT handlers once, leaving alone any signal whose handler the
  /// program has set itself.
  static func installHandlers() {
    lock.lock()
    defer { lock.unlock() }
    guard !installed else { return }
    installed = true
    _ = slots
    for sig in [SIGTERM, SIGINT] {
      let previous = signal(sig, temporaryFileSignalHandler)
      if unsafeBitCast(previous, to: Int.self) != 0 {  // not SIG_DFL: put it back
        signal(sig, previous)
      }
    }
  }
}

/// Removes the live temporary files, then exits with 128 + `sig`. Async-signal-safe: it only
/// reads the fixed slots and calls `unlink` and `_exit`.
private func temporaryFileSignalHandler(_ sig: Int32) {
  let slots = TemporaryFileRegistry.slots
  let size = TemporaryFileRegistry.pathCapacity
  for n in 0..<TemporaryFileRegistry.capacity where slots[n * size] != 0 {
    unlink(slots + n * size)
  }
  _exit(128 + sig)
}

@inline(__always)
private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
  write(fd, p, n)
}
