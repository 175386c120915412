import CZlib

/// Decompresses deflate data with zlib, either wrapped in gzip framing or raw (as inside zip entries).
///
/// zlib's `z_stream` is a C struct that zlib points back into, so it lives in memory this class
/// allocates and frees; the class owns it for its whole life and is never shared between threads.
final class Inflater {
    /// The framing around the deflate data.
    enum Framing {
        /// One or more gzip members (RFC 1952), each with its header and CRC-32 trailer.
        case gzip
        /// Bare deflate blocks (RFC 1951), as a zip entry stores them.
        case raw
    }

    private let stream: UnsafeMutablePointer<z_stream>
    private let framing: Framing

    init(framing: Framing) throws(ArchiveError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        self.framing = framing
        // Window bits: 15 + 16 asks zlib for gzip framing, -15 for raw deflate.
        let windowBits: Int32 = framing == .gzip ? 15 + 16 : -15
        let status = inflateInit2_(stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw ArchiveError(.malformed, "zlib could not start inflating (code \(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Inflates all of `input`.
    ///
    /// - Parameters:
    ///   - input: the compressed bytes.
    ///   - expectedSize: the decompressed size when the container records it; used to size the output once.
    /// - Returns: the decompressed bytes.
    /// - Throws: `ArchiveError` when the data is corrupt or ends early.
    func inflate(_ input: [UInt8], expectedSize: Int? = nil) throws(ArchiveError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: max(expectedSize ?? input.count * 4, 1024))
        var produced = 0
        let result: Result<Void, ArchiveError> = input.withUnsafeBufferPointer { inputBuffer in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: inputBuffer.baseAddress)
            stream.pointee.avail_in = UInt32(inputBuffer.count)
            while true {
                if produced == output.count {
                    output.append(contentsOf: repeatElement(0, count: output.count))
                }
                let status = output.withUnsafeMutableBufferPointer { outputBuffer -> Int32 in
                    guard let base = outputBuffer.baseAddress else { return Z_MEM_ERROR }
                    stream.pointee.next_out = base + produced
                    stream.pointee.avail_out = UInt32(min(outputBuffer.count - produced, Int(UInt32.max)))
                    let before = stream.pointee.avail_out
                    let status = CZlib.inflate(stream, Z_NO_FLUSH)
                    produced += Int(before - stream.pointee.avail_out)
                    return status
                }
                switch status {
                case Z_STREAM_END:
                    // A gzip file may hold several members back to back; continue with the next one.
                    if framing == .gzip && stream.pointee.avail_in > 0 {
                        inflateReset(stream)
                        continue
                    }
                    return .success(())
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.pointee.avail_in == 0:
                    return .failure(ArchiveError(.truncated, "the compressed data ends before its end marker"))
                case Z_BUF_ERROR:
                    continue
                default:
                    return .failure(ArchiveError(.malformed, "the compressed data is corrupt (zlib code \(status))"))
                }
            }
        }
        try result.get()
        output.removeSubrange(produced...)
        return output
    }
}
