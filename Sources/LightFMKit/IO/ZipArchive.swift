/// A read-only zip archive held in memory: the container of numpy's `.npz` files.
///
/// Reads the central directory (zip64 sizes and offsets included, as numpy writes every member
/// with `force_zip64`), then each member's data, stored (method 0) or deflated (method 8), with
/// its CRC-32 checked. Encrypted members and other methods are errors.
struct ZipArchive {
  struct Entry {
    let name: String
    let method: UInt16
    let flags: UInt16
    let crc: UInt32
    let compressedSize: Int
    let size: Int
    let localHeaderOffset: Int
  }

  let file: String
  let bytes: [UInt8]
  /// Members in directory order.
  let entries: [Entry]

  /// Parses the archive's directory.
  ///
  /// - Throws: `LightFMError` (`.parse`) naming `file` when it is not a zip archive or its
  ///   directory is damaged.
  init(bytes: [UInt8], file: String) throws {
    self.file = file
    self.bytes = bytes
    let fail: @Sendable (String) -> LightFMError = { message in
      LightFMError(.parse, "\(file): not a readable zip archive (.npz): \(message)")
    }
    // The end-of-central-directory record sits in the last 22 + 65535 bytes.
    var eocd = -1
    if bytes.count >= 22 {
      let lowest = max(0, bytes.count - 22 - 65535)
      var n = bytes.count - 22
      while n >= lowest {
        if bytes[n] == 0x50 && bytes[n + 1] == 0x4B && bytes[n + 2] == 0x05 && bytes[n + 3] == 0x06
        {
          eocd = n
          break
        }
        n -= 1
      }
    }
    guard eocd >= 0 else {
      throw fail("no end-of-central-directory record; the file is truncated or is not a zip")
    }
    var reader = ByteReader(bytes, offset: eocd + 4, failure: fail)
    try reader.skip(6, "end record")
    var entryCount = Int(try reader.uint16("entry count"))
    var directorySize = Int(try reader.uint32("directory size"))
    var directoryOffset = Int(try reader.uint32("directory offset"))
    // Zip64: a locator 20 bytes before the end record points at the zip64 end record.
    if eocd >= 20, bytes[eocd - 20] == 0x50, bytes[eocd - 19] == 0x4B, bytes[eocd - 18] == 0x06,
      bytes[eocd - 17] == 0x07
    {
      var locator = ByteReader(bytes, offset: eocd - 20 + 8, failure: fail)
      let recordOffset = try locator.uint64("zip64 end record offset")
      guard recordOffset <= UInt64(bytes.count) else {
        throw fail("zip64 end record out of range")
      }
      var record = ByteReader(bytes, offset: Int(recordOffset), failure: fail)
      guard try record.uint32("zip64 end record signature") == 0x0606_4B50 else {
        throw fail("bad zip64 end record signature")
      }
      try record.skip(20, "zip64 end record")
      let total = try record.uint64("zip64 entry count")
      let size = try record.uint64("zip64 directory size")
      let offset = try record.uint64("zip64 directory offset")
      guard total <= UInt64(bytes.count), size <= UInt64(bytes.count),
        offset <= UInt64(bytes.count)
      else { throw fail("zip64 directory out of range") }
      entryCount = Int(total)
      directorySize = Int(size)
      directoryOffset = Int(offset)
    }
    guard directoryOffset + directorySize <= bytes.count else {
      throw fail(
        "central directory (\(directorySize) bytes at \(directoryOffset)) is past the end")
    }
    var directory = ByteReader(bytes, offset: directoryOffset, failure: fail)
    var entries: [Entry] = []
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
      var extra = ByteReader(
        Array(try directory.bytes(extraLength, "extra field")), failure: fail)
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
      let limit = UInt64(bytes.count)
      guard compressedSize <= limit, localOffset <= limit, size <= UInt64(Int32.max) * 64 else {
        throw fail("entry '\(name)' has sizes or offsets outside the file")
      }
      entries.append(
        Entry(
          name: name, method: method, flags: flags, crc: crc,
          compressedSize: Int(compressedSize), size: Int(size),
          localHeaderOffset: Int(localOffset)))
    }
    self.entries = entries
  }

  /// The names of the members, in order.
  var names: [String] { entries.map(\.name) }

  /// The decompressed bytes of member `name`, or `nil` when there is none.
  ///
  /// - Throws: `LightFMError` (`.parse`) when the member is encrypted, uses an unsupported
  ///   method, is truncated, or fails its CRC-32 check.
  func data(of name: String) throws -> [UInt8]? {
    guard let entry = entries.first(where: { $0.name == name }) else { return nil }
    let fail: @Sendable (String) -> LightFMError = { [file] message in
      LightFMError(.parse, "\(file): member '\(name)': \(message)")
    }
    guard entry.flags & 1 == 0 else { throw fail("is encrypted") }
    var local = ByteReader(bytes, offset: entry.localHeaderOffset, failure: fail)
    guard try local.uint32("local header") == 0x0403_4B50 else {
      throw fail("bad local header signature")
    }
    try local.skip(22, "local header")
    let nameLength = Int(try local.uint16("name length"))
    let extraLength = Int(try local.uint16("extra length"))
    try local.skip(nameLength + extraLength, "local header")
    let stored = try local.bytes(entry.compressedSize, "member data")
    let content: [UInt8]
    switch entry.method {
    case 0:
      guard entry.compressedSize == entry.size else { throw fail("stored sizes disagree") }
      content = Array(stored)
    case 8:
      do {
        content = try Inflate.decompress(stored, expectedSize: entry.size)
      } catch let error as LightFMError {
        throw fail(error.message)
      }
    default:
      throw fail("compression method \(entry.method) is not supported (only stored and deflate)")
    }
    let crc = CRC32.checksum(content)
    guard crc == entry.crc else {
      throw fail("CRC-32 mismatch (\(crc) != \(entry.crc)): the archive is corrupted")
    }
    return content
  }
}
