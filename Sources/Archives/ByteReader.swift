/// Reads little-endian integers from a byte array, throwing instead of trapping at the end.
struct ByteReader {
    private let bytes: [UInt8]
    /// The position of the next byte to read.
    var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func bytes(_ count: Int) throws(ArchiveError) -> [UInt8] {
        guard count >= 0, offset >= 0, offset + count <= bytes.count else {
            throw ArchiveError(.truncated, "the archive ends before a record it declares (offset \(offset))")
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func uint16() throws(ArchiveError) -> UInt16 {
        UInt16(truncatingIfNeeded: try integer(width: 2))
    }

    mutating func uint32() throws(ArchiveError) -> UInt32 {
        UInt32(truncatingIfNeeded: try integer(width: 4))
    }

    mutating func uint64() throws(ArchiveError) -> UInt64 {
        try integer(width: 8)
    }

    private mutating func integer(width: Int) throws(ArchiveError) -> UInt64 {
        guard offset >= 0, offset + width <= bytes.count else {
            throw ArchiveError(.truncated, "the archive ends before a record it declares (offset \(offset))")
        }
        var value: UInt64 = 0
        for index in 0..<width {
            value |= UInt64(bytes[offset + index]) << (8 * index)
        }
        offset += width
        return value
    }
}
