/// Reading gzip-compressed data (RFC 1952).
public enum Gzip {
    /// Decompresses a whole gzip stream held in memory.
    ///
    /// - Parameter bytes: the contents of a `.gz` file.
    /// - Returns: the decompressed bytes of all its members.
    /// - Throws: `ArchiveError` when the data is not gzip, is corrupt, or is cut short.
    /// - Parameter limit: the most bytes the data may decompress to, so that a small file cannot claim
    ///   gigabytes of memory.
    public static func decompress(_ bytes: [UInt8], limit: Int = 256 << 20) throws(ArchiveError) -> [UInt8] {
        guard bytes.count >= 2, bytes[0] == 0x1f, bytes[1] == 0x8b else {
            throw ArchiveError(.malformed, "not gzip data (the first two bytes are not 1f 8b)")
        }
        guard bytes.count >= 18 else {
            throw ArchiveError(.truncated, "gzip data cut short: \(bytes.count) bytes, less than a header and trailer")
        }
        // The trailer's last four bytes hold the size modulo 2^32: a good first guess for the buffer.
        let n = bytes.count
        let sizeHint = Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16 | Int(bytes[n - 1]) << 24
        return try Decompressor().inflateGzip(bytes, sizeHint: min(sizeHint, limit), limit: limit)
    }

    /// Whether `bytes` start with the gzip magic number.
    public static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }
}
