import ArgumentParser
import Foundation
import LightFMKit
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - The entry point

extension LightFMCommand {
  /// ArgumentParser's `main()`, with the standard streams made safe first
  /// (`StandardStreams.prepare`) and standard output flushed, its failure reported, last.
  ///
  /// Exit statuses: 0 on success; 1 for an error (a failed write of the results included),
  /// with the message on standard error; 64 for a usage error (ArgumentParser's); and 141,
  /// silently, when the reader of standard output went away (EPIPE; see `StandardStreams`).
  static func main() {
    StandardStreams.prepare()
    do {
      var command = try parseAsRoot()
      try command.run()
      try StandardStreams.output.flush()
    } catch is BrokenPipe {
      terminate(StandardStreams.brokenPipeStatus)
    } catch {
      // Help and --version print to standard output: through the same checked path.
      if exitCode(for: error) == .success {
        let text = fullMessage(for: error)
        do {
          if !text.isEmpty { try Console.result(text) }
          try StandardStreams.output.flush()
        } catch is BrokenPipe {
          terminate(StandardStreams.brokenPipeStatus)
        } catch {
          exit(withError: error)
        }
        terminate(0)
      }
      exit(withError: error)
    }
  }
}

/// Ends the process with `status` (the C library's `exit`, which `ParsableCommand.exit`
/// hides inside the command types).
private func terminate(_ status: Int32) -> Never {
  exit(status)
}

// MARK: - Standard streams

/// Standard output went away while results were written to it (EPIPE): the command ends
/// quietly with `StandardStreams.brokenPipeStatus`.
struct BrokenPipe: Error {}

/// The one path by which `lightfm` writes standard output and standard error, through
/// error-checked POSIX calls (Foundation's `FileHandle` traps on a failed write).
///
/// - Results (standard output) are buffered and every write is checked: a failure is an error
///   naming the reason, so the command exits with status 1 (output to a full disk is not a
///   success). When the reader of a pipe goes away (EPIPE, as `lightfm recommend | head` does)
///   the command stops without a message and exits with status 141, the status of a process
///   killed by SIGPIPE: what `cat`, `seq` or `sort` give in the same place, so that a
///   `set -o pipefail` script sees the same thing from every stage of a pipeline.
/// - Notes and progress (standard error) are best effort: a closed, full or broken standard
///   error loses the message and nothing else.
/// - SIGPIPE is ignored, so a write to a broken pipe is an EPIPE error instead of a signal that
///   would kill the process in the middle of writing a file (leaving its temporary file behind).
/// - A standard stream that is closed when the process starts is opened on `/dev/null` in the
///   direction nobody uses (standard output read-only, standard input write-only), so that its
///   reads and writes fail with EBADF as for a closed descriptor, and no file the command opens
///   can take descriptor 0, 1 or 2 (progress notes would otherwise land in a model file).
enum StandardStreams {
  /// The exit status after EPIPE on standard output: 128 + SIGPIPE.
  static let brokenPipeStatus: Int32 = 128 + SIGPIPE

  /// The results stream.
  static let output = ResultStream(descriptor: STDOUT_FILENO, name: "standard output")

  /// Which standard streams were closed at start (input, output, error), for the messages.
  nonisolated(unsafe) private(set) static var closedAtStart = [false, false, false]

  /// Ignores SIGPIPE and puts `/dev/null` in place of closed standard streams. Called once,
  /// first thing in `main`.
  static func prepare() {
    signal(SIGPIPE, SIG_IGN)
    // Unused direction: the descriptor is valid (no later open can take it) but every read of
    // standard input and every write of standard output or error fails with EBADF.
    let modes = [O_WRONLY, O_RDONLY, O_RDONLY]
    for fd in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] where fcntl(fd, F_GETFD) < 0 {
      closedAtStart[Int(fd)] = true
      let opened = open("/dev/null", modes[Int(fd)])
      if opened >= 0 && opened != fd {
        // Only when a lower descriptor was free too: move it where it belongs.
        _ = dup2(opened, fd)
        close(opened)
      }
    }
  }

  /// Writes `text` to standard error as it is (a progress line redrawn with `\r`), ignoring
  /// every failure: progress and notes are not worth failing for.
  static func writeError(_ text: String) {
    _ = try? writeAll(Array(text.utf8), to: STDERR_FILENO)
  }

  /// Writes all of `bytes` to `fd`, retrying after EINTR and waiting out EAGAIN (a non-blocking
  /// descriptor inherited from the caller).
  ///
  /// - Throws: `BrokenPipe` on EPIPE; `POSIXFailure` with errno for any other failure.
  static func writeAll(_ bytes: [UInt8], to fd: Int32) throws {
    try bytes.withUnsafeBytes { raw in
      guard let base = raw.baseAddress else { return }
      var offset = 0
      while offset < raw.count {
        let n = write(fd, base + offset, raw.count - offset)
        if n >= 0 {
          offset += n
          continue
        }
        let code = errno
        switch code {
        case EINTR: continue
        case EAGAIN, EWOULDBLOCK: waitUntilReady(fd, events: Int16(POLLOUT))
        case EPIPE: throw BrokenPipe()
        default: throw POSIXFailure(code: code)
        }
      }
    }
  }

  /// A failed system call's errno.
  struct POSIXFailure: Error {
    let code: Int32
  }

  /// The reason for `code` in words, saying "closed" for a stream closed at start.
  static func reason(_ code: Int32, fd: Int32) -> String {
    let text = String(cString: strerror(code))
    if code == EBADF && closedAtStart[Int(fd)] { return "it is closed (\(text))" }
    return text
  }

  private static func waitUntilReady(_ fd: Int32, events: Int16) {
    var request = pollfd(fd: fd, events: events, revents: 0)
    _ = poll(&request, 1, -1)
  }
}

/// Standard output for the results: buffered, and every write checked.
final class ResultStream: Sendable {
  private let descriptor: Int32
  private let name: String
  private let buffer = Mutex<[UInt8]>([])
  /// A terminal sees each write at once; a file or pipe gets `capacity` bytes at a time.
  private let interactive: Bool

  /// Bytes held before they are written.
  static let capacity = 1 << 16

  init(descriptor: Int32, name: String) {
    self.descriptor = descriptor
    self.name = name
    interactive = isatty(descriptor) == 1
  }

  /// Appends `text`, writing the buffer out once it holds `capacity` bytes (at once on a
  /// terminal).
  ///
  /// - Throws: as `flush()`.
  func write(_ text: String) throws {
    let full = buffer.withLock { bytes in
      bytes.append(contentsOf: text.utf8)
      return bytes.count >= Self.capacity || interactive
    }
    if full { try flush() }
  }

  /// Writes out everything buffered.
  ///
  /// - Throws: `BrokenPipe` when the reader went away (EPIPE); `LightFMError` (`.io`) saying why
  ///   for any other failure (a full disk, a closed descriptor).
  func flush() throws {
    try buffer.withLock { bytes in
      guard !bytes.isEmpty else { return }
      defer { bytes.removeAll(keepingCapacity: true) }
      do {
        try StandardStreams.writeAll(bytes, to: descriptor)
      } catch let failure as StandardStreams.POSIXFailure {
        throw LightFMError(
          .io,
          "cannot write the results to \(name): "
            + StandardStreams.reason(failure.code, fd: descriptor))
      }
    }
  }
}

extension Console {
  /// Writes `text` and a newline to standard output, the results stream.
  ///
  /// - Throws: `BrokenPipe` or `LightFMError` (`ResultStream.flush`).
  static func result(_ text: String) throws {
    try StandardStreams.output.write(text + "\n")
  }
}
