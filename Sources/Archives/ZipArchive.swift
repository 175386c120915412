/// A zip archive held in memory, read through its central directory (PKWARE APPNOTE, with Zip64).
///
/// NumPy's `.npz` files are zip archives of `.npy` entries, stored or deflated.
public struct ZipArchive: Sendable {
    /// One file inside the archive, as its central directory describes it.
    public struct Entry: Sendable, Equatable {
        /// The entry's path inside the archive.
        public let name: String
        /// 0 for stored, 8 for deflate.
        public let method: UInt16
        /// The size of the entry's data in the archive.
        public let compressedSize: Int
        /// The size of the entry once decompressed.
        public let uncompressedSize: Int
        /// The CRC-32 of the decompressed data.
        public let crc32: UInt32
        /// Where the entry's local header starts.
        let localHeaderOffset: Int
    }

    private let bytes: [UInt8]
    /// The entries in the order the central directory lists them.
    public let entries: [Entry]

    /// Parses the central directory of `bytes`.
    ///
    /// - Throws: `ArchiveError` when no end-of-central-directory record is found or a record is cut short.
    public init(bytes: [UInt8]) throws(ArchiveError) {
        self.bytes = bytes
        var reader = ByteReader(bytes)
        let end = try Self.findEndOfCentralDirectory(in: bytes)
        reader.offset = end + 10
        var entryCount = Int(try reader.uint16())
        _ = try reader.uint32()  // Size of the central directory.
        var directoryOffset = Int(try reader.uint32())
        if entryCount == 0xFFFF || directoryOffset == 0xFFFF_FFFF {
            (entryCount, directoryOffset) = try Self.readZip64End(bytes, endRecord: end)
        }

        var entries: [Entry] = []
        reader.offset = directoryOffset
        for _ in 0..<entryCount {
            guard try reader.uint32() == 0x0201_4b50 else {
                throw ArchiveError(.malformed, "zip central directory entry has a bad signature")
            }
            reader.offset += 6  // Versions made by and needed, flags.
            let method = try reader.uint16()
            reader.offset += 4  // Modification time and date.
            let crc = try reader.uint32()
            var compressedSize = Int(try reader.uint32())
            var uncompressedSize = Int(try reader.uint32())
            let nameLength = Int(try reader.uint16())
            let extraLength = Int(try reader.uint16())
            let commentLength = Int(try reader.uint16())
            reader.offset += 8  // Disk number, internal and external attributes.
            var localOffset = Int(try reader.uint32())
            let name = String(decoding: try reader.bytes(nameLength), as: UTF8.self)
            let extraEnd = reader.offset + extraLength
            // Zip64 extra field: the 64-bit values appear, in order, for each 32-bit field that is all ones.
            while reader.offset + 4 <= extraEnd {
                let tag = try reader.uint16()
                let size = Int(try reader.uint16())
                let next = reader.offset + size
                if tag == 0x0001 {
                    if uncompressedSize == 0xFFFF_FFFF { uncompressedSize = Int(try reader.uint64()) }
                    if compressedSize == 0xFFFF_FFFF { compressedSize = Int(try reader.uint64()) }
                    if localOffset == 0xFFFF_FFFF { localOffset = Int(try reader.uint64()) }
                }
                reader.offset = next
            }
            reader.offset = extraEnd + commentLength
            entries.append(
                Entry(
                    name: name, method: method, compressedSize: compressedSize,
                    uncompressedSize: uncompressedSize, crc32: crc, localHeaderOffset: localOffset))
        }
        self.entries = entries
    }

    /// The decompressed contents of the entry called `name`.
    ///
    /// - Throws: `ArchiveError` when there is no such entry, its method is unsupported, or its data is corrupt.
    public func contents(of name: String) throws(ArchiveError) -> [UInt8] {
        guard let entry = entries.first(where: { $0.name == name }) else {
            let names = entries.map(\.name).joined(separator: ", ")
            throw ArchiveError(.missingEntry(name), "the archive has no entry \"\(name)\" (it has: \(names))")
        }
        return try contents(of: entry)
    }

    /// The decompressed contents of `entry`, checked against its CRC-32.
    public func contents(of entry: Entry) throws(ArchiveError) -> [UInt8] {
        var reader = ByteReader(bytes)
        reader.offset = entry.localHeaderOffset
        guard try reader.uint32() == 0x0403_4b50 else {
            throw ArchiveError(.malformed, "zip entry \"\(entry.name)\" has a bad local header signature")
        }
        reader.offset += 22
        let nameLength = Int(try reader.uint16())
        let extraLength = Int(try reader.uint16())
        reader.offset += nameLength + extraLength
        let stored = try reader.bytes(entry.compressedSize)

        let data: [UInt8]
        switch entry.method {
        case 0:
            data = stored
        case 8:
            data = try Decompressor().inflateRaw(stored, size: entry.uncompressedSize)
        default:
            throw ArchiveError(
                .unsupportedMethod(entry.method),
                "zip entry \"\(entry.name)\" uses compression method \(entry.method); only stored (0) and deflate (8) are read"
            )
        }
        guard data.count == entry.uncompressedSize, CRC32.checksum(data) == entry.crc32 else {
            throw ArchiveError(.malformed, "zip entry \"\(entry.name)\" does not match its recorded size and CRC-32")
        }
        return data
    }

    private static func findEndOfCentralDirectory(in bytes: [UInt8]) throws(ArchiveError) -> Int {
        // The record is 22 bytes plus a comment of up to 65,535 bytes, at the very end.
        let lowest = max(0, bytes.count - 22 - 0xFFFF)
        var index = bytes.count - 22
        while index >= lowest {
            if bytes[index] == 0x50, bytes[index + 1] == 0x4b, bytes[index + 2] == 0x05, bytes[index + 3] == 0x06 {
                return index
            }
            index -= 1
        }
        throw ArchiveError(.malformed, "not a zip archive (no end-of-central-directory record)")
    }

    private static func readZip64End(_ bytes: [UInt8], endRecord: Int) throws(ArchiveError) -> (Int, Int) {
        var reader = ByteReader(bytes)
        reader.offset = endRecord - 20
        guard try reader.uint32() == 0x0706_4b50 else {
            throw ArchiveError(.malformed, "zip archive needs a Zip64 locator but has none")
        }
        reader.offset += 4
        reader.offset = Int(try reader.uint64())
        guard try reader.uint32() == 0x0606_4b50 else {
            throw ArchiveError(.malformed, "zip archive has a bad Zip64 end record")
        }
        reader.offset += 28
        let count = Int(try reader.uint64())
        reader.offset += 8
        let offset = Int(try reader.uint64())
        return (count, offset)
    }
}
