import CZlib

/// Where a zip archive's bytes come from: memory, or a regular file read at offsets (so that a
/// large `.npz` is never held whole in memory next to the arrays inflated from it).
package enum ArchiveSource {
  case memory([UInt8])
  case file(InputFile, size: Int)

  /// The length in bytes.
  package var count: Int {
    switch self {
    case .memory(let bytes): bytes.count
    case .file(_, let size): size
    }
  }

  /// Fills `buffer` from `offset`.
  ///
  /// - Precondition: the range lies inside the source.
  func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
    precondition(offset >= 0 && buffer.count <= count - offset, "read past the archive's end")
    guard buffer.count > 0 else { return }
    switch self {
    case .memory(let bytes):
      bytes.withUnsafeBytes { raw in
        buffer.copyMemory(
          from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + buffer.count)]))
      }
    case .file(let file, _):
      try file.readExactly(into: buffer, at: offset)
    }
  }

  /// `n` bytes from `offset`.
  func bytes(at offset: Int, count n: Int) throws -> [UInt8] {
    try [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
      try read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
      initialized = n
    }
  }
}

/// A read-only zip archive: the container of numpy's `.npz` files.
///
/// Reads the central directory (zip64 sizes, offsets and end records included, as numpy writes
/// every member with `force_zip64` and large archives with a zip64 end record), then each
/// member's data on demand, stored (method 0) or deflated (method 8, through zlib), streamed
/// into its destination with its size and CRC-32 checked as it goes. Encrypted members and other
/// methods are errors. When a name appears twice the last member wins, as in numpy.
package struct ZipArchive {
  package struct Entry {
    package let name: String
    let method: UInt16
    let flags: UInt16
    let crc: UInt32
    let compressedSize: Int
    package let size: Int
    let localHeaderOffset: Int
  }

  package let file: String
  let source: ArchiveSource
  /// Members in directory order, a repeated name kept only at its last appearance.
  package let entries: [Entry]
  private let index: [String: Int]

  /// Parses the directory of an archive held in memory.
  package init(bytes: [UInt8], file: String) throws {
    try self.init(source: .memory(bytes), file: file)
  }

  /// Parses the archive's directory.
  ///
  /// - Throws: `LightFMError` (`.parse`) naming `file` when it is not a zip archive or its
  ///   directory is damaged.
  package init(source: ArchiveSource, file: String) throws {
    self.file = file
    self.source = source
    let fail: @Sendable (String) -> LightFMError = { message in
      LightFMError(.parse, "\(file): not a readable zip archive (.npz): \(message)")
    }
    let total = source.count
    guard total > 0 else { throw LightFMError(.parse, "\(file): the file is empty") }
    // The end-of-central-directory record sits in the last 22 + 65535 bytes.
    let tailStart = max(0, total - 22 - 65535)
    let tail = try source.bytes(at: tailStart, count: total - tailStart)
    var eocd = -1
    var n = tail.count - 22
    while n >= 0 {
      if tail[n] == 0x50 && tail[n + 1] == 0x4B && tail[n + 2] == 0x05 && tail[n + 3] == 0x06 {
        eocd = n
        break
      }
      n -= 1
    }
    guard eocd >= 0 else {
      throw fail("no end-of-central-directory record; the file is truncated or is not a zip")
    }
    var reader = ByteReader(tail, offset: eocd + 4, failure: fail)
    try reader.skip(6, "end record")
    var entryCount = Int(try reader.uint16("entry count"))
    var directorySize = Int(try reader.uint32("directory size"))
    var directoryOffset = Int(try reader.uint32("directory offset"))
    // Zip64: a 20-byte locator just before the end record points at the zip64 end record:
    // signature, record size (8), versions (2 + 2), disk numbers (4 + 4), entries on this disk
    // (8), entries in all (8), directory size (8), directory offset (8).
    let locatorAt = tailStart + eocd - 20
    if locatorAt >= 0 {
      let locatorBytes = try source.bytes(at: locatorAt, count: 20)
      var locator = ByteReader(locatorBytes, failure: fail)
      if try locator.uint32("zip64 locator") == 0x0706_4B50 {
        try locator.skip(4, "zip64 locator")
        let recordOffset = try locator.uint64("zip64 end record offset")
        guard recordOffset <= UInt64(locatorAt), UInt64(locatorAt) - recordOffset >= 56 else {
          throw fail("zip64 end record offset \(recordOffset) is out of range")
        }
        let recordBytes = try source.bytes(at: Int(recordOffset), count: 56)
        var record = ByteReader(recordBytes, failure: fail)
        guard try record.uint32("zip64 end record signature") == 0x0606_4B50 else {
          throw fail("bad zip64 end record signature")
        }
        try record.skip(28, "zip64 end record")
        let count = try record.uint64("zip64 entry count")
        let size = try record.uint64("zip64 directory size")
        let offset = try record.uint64("zip64 directory offset")
        guard count <= UInt64(total), size <= UInt64(total), offset <= UInt64(total) else {
          throw fail(
            "zip64 directory (\(count) entries, \(size) bytes at \(offset)) is out of range")
        }
        entryCount = Int(count)
        directorySize = Int(size)
        directoryOffset = Int(offset)
      }
    }
    guard directoryOffset + directorySize <= total else {
      throw fail(
        "central directory (\(directorySize) bytes at \(directoryOffset)) is past the end")
    }
    // Each directory entry takes at least 46 bytes: a count the directory cannot hold is a lie.
    guard entryCount <= directorySize / 46 else {
      throw fail("\(entryCount) entries cannot fit a \(directorySize)-byte central directory")
    }
    var directory = ByteReader(
      try source.bytes(at: directoryOffset, count: directorySize), failure: fail)
    var entries: [Entry] = []
    entries.reserveCapacity(entryCount)
    var index: [String: Int] = [:]
    for n in 0..<entryCount {
      guard try directory.uint32("directory entry \(n)") == 0x0201_4B50 else {
        throw fail("directory entry \(n) has a bad signature")
      }
      try directory.skip(4, "directory entry \(n)")
      let flags = try directory.uint16("flags")
      let method = try directory.uint16("method")
      try directory.skip(4, "times")
      let crc = try directory.uint32("crc")
      var compressedSize = UInt64(try directory.uint32("compressed size"))
      var size = UInt64(try directory.uint32("size"))
      let nameLength = Int(try directory.uint16("name length"))
      let extraLength = Int(try directory.uint16("extra length"))
      let commentLength = Int(try directory.uint16("comment length"))
      try directory.skip(8, "attributes")
      var localOffset = UInt64(try directory.uint32("local header offset"))
      let nameBytes = try directory.bytes(nameLength, "entry name")
      let name = String(decoding: nameBytes, as: UTF8.self)
      var extra = ByteReader(try directory.bytes(extraLength, "extra field"), failure: fail)
      try directory.skip(commentLength, "entry comment")
      // Zip64 extended information: only the fields saturated at 0xFFFFFFFF are present.
      while extra.remaining >= 4 {
        let tag = try extra.uint16("extra tag")
        let length = Int(try extra.uint16("extra length"))
        let end = extra.offset + length
        try extra.require(length, "extra field \(tag)")
        if tag == 0x0001 {
          if size == 0xFFFF_FFFF { size = try extra.uint64("zip64 size") }
          if compressedSize == 0xFFFF_FFFF {
            compressedSize = try extra.uint64("zip64 compressed size")
          }
          if localOffset == 0xFFFF_FFFF { localOffset = try extra.uint64("zip64 offset") }
        }
        extra.offset = end
      }
      let limit = UInt64(total)
      guard compressedSize <= limit, localOffset <= limit, size <= UInt64(Int.max / 2) else {
        throw fail("entry '\(name)' has sizes or offsets outside the file")
      }
      index[name] = entries.count
      entries.append(
        Entry(
          name: name, method: method, flags: flags, crc: crc,
          compressedSize: Int(compressedSize), size: Int(size),
          localHeaderOffset: Int(localOffset)))
    }
    // Drop the earlier copies of repeated names, keeping directory order otherwise.
    if index.count < entries.count {
      var seen = Set<String>()
      var kept: [Entry] = []
      for entry in entries.reversed() where seen.insert(entry.name).inserted {
        kept.append(entry)
      }
      entries = kept.reversed()
      index = [:]
      for (n, entry) in entries.enumerated() { index[entry.name] = n }
    }
    self.entries = entries
    self.index = index
  }

  /// The names of the members, in order.
  package var names: [String] { entries.map(\.name) }

  /// The member called `name`, or `nil`.
  package func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

  /// A stream over the uncompressed bytes of `entry`.
  ///
  /// - Throws: `LightFMError` (`.parse`) when the member is encrypted, uses an unsupported
  ///   method, lies outside the file, or declares a size its compressed data cannot hold.
  package func open(_ entry: Entry) throws -> ZipMemberStream {
    try ZipMemberStream(archive: self, entry: entry)
  }

  /// The decompressed bytes of member `name`, or `nil` when there is none (for small members
  /// and tests; arrays stream through `open`).
  package func data(of name: String, limits: LoadLimits = .default) throws -> [UInt8]? {
    guard let entry = entry(name) else { return nil }
    let stream = try open(entry)
    try limits.require(count: entry.size, size: 1, "\(file): member '\(name)'")
    let content = try [UInt8](unsafeUninitializedCapacity: entry.size) { buffer, initialized in
      try stream.read(into: UnsafeMutableRawBufferPointer(buffer), "member data")
      initialized = entry.size
    }
    try stream.finish()
    return content
  }
}

/// The uncompressed bytes of one zip member, read in order: inflated through zlib (or copied
/// when stored) straight into the caller's buffers, never more than the declared size, with the
/// CRC-32 accumulated as it goes and checked by `finish()`.
package final class ZipMemberStream: ByteStream {
  private let source: ArchiveSource
  private let entry: ZipArchive.Entry
  private let fail: (String) -> LightFMError
  /// Where the member's (compressed) data starts and how much of it is still unread.
  private var inputOffset: Int
  private var inputLeft: Int
  private var crc: UInt32 = 0
  /// Uncompressed bytes not yet delivered.
  package private(set) var remaining: Int
  private var stream: UnsafeMutablePointer<z_stream>?
  private var inputBuffer: [UInt8] = []
  private var ended = false

  fileprivate init(archive: ZipArchive, entry: ZipArchive.Entry) throws {
    let file = archive.file
    let name = entry.name
    let fail: @Sendable (String) -> LightFMError = { message in
      LightFMError(.parse, "\(file): member '\(name)': \(message)")
    }
    self.fail = fail
    self.source = archive.source
    self.entry = entry
    self.remaining = entry.size
    guard entry.flags & 1 == 0 else { throw fail("is encrypted") }
    let total = archive.source.count
    guard entry.localHeaderOffset <= total - 30 else {
      throw fail("local header at \(entry.localHeaderOffset) is past the end of the file")
    }
    var local = ByteReader(
      try archive.source.bytes(at: entry.localHeaderOffset, count: 30), failure: fail)
    guard try local.uint32("local header") == 0x0403_4B50 else {
      throw fail("bad local header signature")
    }
    try local.skip(22, "local header")
    let nameLength = Int(try local.uint16("name length"))
    let extraLength = Int(try local.uint16("extra length"))
    let start = entry.localHeaderOffset + 30 + nameLength + extraLength
    guard start <= total, entry.compressedSize <= total - start else {
      throw fail(
        "truncated: \(entry.compressedSize) bytes of member data at \(start), the file has "
          + "\(total)")
    }
    inputOffset = start
    inputLeft = entry.compressedSize
    switch entry.method {
    case 0:
      guard entry.compressedSize == entry.size else {
        throw fail(
          "stored member declares \(entry.size) bytes but holds \(entry.compressedSize)")
      }
    case 8:
      // A DEFLATE stream cannot expand more than about 1032:1; a larger declared size is a lie
      // (or a bomb) and is refused before anything is reserved for it.
      let (bound, overflow) = (entry.compressedSize + 1).multipliedReportingOverflow(
        by: LoadLimits.maxDeflateRatio)
      guard !overflow, entry.size <= bound else {
        throw fail(
          "declares \(entry.size) bytes uncompressed from \(entry.compressedSize) compressed "
            + "bytes, more than DEFLATE can expand (\(LoadLimits.maxDeflateRatio):1): the "
            + "archive is damaged or hostile")
      }
      let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
      stream.initialize(to: z_stream())
      guard lightfm_inflate_init_raw(stream) == Z_OK else {
        stream.deinitialize(count: 1)
        stream.deallocate()
        throw LightFMError(.io, "\(file): zlib could not start inflating member '\(name)'")
      }
      self.stream = stream
      inputBuffer = [UInt8](repeating: 0, count: min(1 << 16, max(entry.compressedSize, 1)))
    default:
      throw fail(
        "compression method \(entry.method) is not supported (only stored and deflate)")
    }
  }

  deinit {
    if let stream {
      inflateEnd(stream)
      stream.deinitialize(count: 1)
      stream.deallocate()
    }
  }

  /// Fills `buffer` with the next uncompressed bytes.
  ///
  /// - Throws: `LightFMError` when fewer than `buffer.count` bytes are left, or the data is
  ///   damaged or truncated.
  package func read(
    into buffer: UnsafeMutableRawBufferPointer, _ what: @autoclosure () -> String
  ) throws {
    guard buffer.count > 0 else { return }
    guard buffer.count <= remaining else {
      throw fail(
        "truncated: \(what()) needs \(buffer.count) bytes, the member has \(remaining) left of "
          + "its \(entry.size)")
    }
    if let stream {
      try inflate(stream, into: buffer)
    } else {
      try source.read(into: buffer, at: inputOffset)
      inputOffset += buffer.count
      inputLeft -= buffer.count
    }
    remaining -= buffer.count
    crc = CRC32.checksum(UnsafeRawBufferPointer(buffer), continuing: crc)
  }

  private func inflate(
    _ stream: UnsafeMutablePointer<z_stream>, into buffer: UnsafeMutableRawBufferPointer
  ) throws {
    var produced = 0
    let base = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
    while produced < buffer.count {
      if ended {
        throw fail(
          "the deflate data ends after \(entry.size - remaining + produced) bytes, but the "
            + "member declares \(entry.size)")
      }
      if stream.pointee.avail_in == 0 { try refill(stream) }
      let want = min(buffer.count - produced, 1 << 30)
      stream.pointee.next_out = base + produced
      stream.pointee.avail_out = uInt(want)
      let status = inputBuffer.withUnsafeMutableBufferPointer { input -> Int32 in
        // next_in points into inputBuffer, whose storage does not move while we hold it.
        stream.pointee.next_in = input.baseAddress! + (input.count - Int(stream.pointee.avail_in))
        return CZlib.inflate(stream, Z_NO_FLUSH)
      }
      produced += want - Int(stream.pointee.avail_out)
      try settle(status, stream)
    }
  }

  /// Acts on one `inflate` status: notes the end of the stream, and turns input that ran out
  /// early or damaged data into an error naming the member.
  private func settle(_ status: Int32, _ stream: UnsafeMutablePointer<z_stream>) throws {
    switch status {
    case Z_OK: break
    case Z_STREAM_END: ended = true
    case Z_BUF_ERROR:
      if inputLeft == 0 && stream.pointee.avail_in == 0 { throw truncated() }
    default:
      let reason = stream.pointee.msg.map { String(cString: $0) } ?? "error \(status)"
      throw fail("damaged deflate data (\(reason))")
    }
  }

  private func truncated() -> LightFMError {
    fail("truncated: the deflate data ends before the declared \(entry.size) bytes")
  }

  /// Loads the next piece of compressed data into `inputBuffer`.
  private func refill(_ stream: UnsafeMutablePointer<z_stream>) throws {
    guard inputLeft > 0 else { throw truncated() }
    let n = min(inputLeft, inputBuffer.count)
    try inputBuffer.withUnsafeMutableBytes { raw in
      try source.read(
        into: UnsafeMutableRawBufferPointer(rebasing: raw[(raw.count - n)...]), at: inputOffset)
    }
    inputOffset += n
    inputLeft -= n
    stream.pointee.avail_in = uInt(n)
  }

  /// Reads what is left (in small pieces), then checks that the data ends exactly at the
  /// declared size and that the CRC-32 matches.
  package func finish() throws {
    var scratch = [UInt8](repeating: 0, count: min(max(remaining, 1), 1 << 16))
    while remaining > 0 {
      let n = min(remaining, scratch.count)
      try scratch.withUnsafeMutableBytes {
        try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<n]), "member data")
      }
    }
    if let stream, !ended {
      // Whatever follows must be the end of the stream, not more data.
      var extra: UInt8 = 0
      while !ended {
        if stream.pointee.avail_in == 0 { try refill(stream) }
        stream.pointee.avail_out = 1
        let status = withUnsafeMutablePointer(to: &extra) { out -> Int32 in
          stream.pointee.next_out = out
          return inputBuffer.withUnsafeMutableBufferPointer { input in
            stream.pointee.next_in =
              input.baseAddress! + (input.count - Int(stream.pointee.avail_in))
            return CZlib.inflate(stream, Z_NO_FLUSH)
          }
        }
        if stream.pointee.avail_out == 0 {
          throw fail("inflates to more than the declared \(entry.size) bytes")
        }
        try settle(status, stream)
      }
    }
    guard crc == entry.crc else {
      throw fail("CRC-32 mismatch (\(crc) != \(entry.crc)): the archive is corrupted")
    }
  }
}
