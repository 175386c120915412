import CDeflate

/// Decompresses whole in-memory deflate streams with libdeflate, either in gzip framing or raw (as
/// inside zip entries). libdeflate decodes a buffer at a time, about twice as fast as zlib's streaming
/// inflate, which matters because every job starts by decompressing its dataset.
///
/// The class owns its libdeflate decompressor and frees it in `deinit`; one instance is never used
/// from two threads at once.
final class Decompressor {
    private let handle: OpaquePointer

    init() throws(ArchiveError) {
        guard let handle = libdeflate_alloc_decompressor() else {
            throw ArchiveError(.malformed, "libdeflate could not allocate a decompressor")
        }
        self.handle = handle
    }

    deinit {
        libdeflate_free_decompressor(handle)
    }

    /// Inflates raw deflate data whose decompressed size is known, as a zip entry records it.
    ///
    /// - Throws: `ArchiveError.malformed` when the data is corrupt, cut short, or of another size.
    func inflateRaw(_ input: [UInt8], size: Int) throws(ArchiveError) -> [UInt8] {
        var status = LIBDEFLATE_SUCCESS
        let output = [UInt8](unsafeUninitializedCapacity: max(size, 1)) { buffer, count in
            status = input.withUnsafeBytes { source in
                libdeflate_deflate_decompress(handle, source.baseAddress, source.count, buffer.baseAddress, size, nil)
            }
            count = status == LIBDEFLATE_SUCCESS ? size : 0
        }
        guard status == LIBDEFLATE_SUCCESS else {
            throw ArchiveError(.malformed, "the deflate data is corrupt, cut short, or not \(size) bytes long")
        }
        return output
    }

    /// Inflates every gzip member of `input`, back to back.
    ///
    /// - Parameters:
    ///   - sizeHint: the expected total size, used as the first output size.
    ///   - limit: the most bytes all members together may decompress to.
    /// - Throws: `ArchiveError.malformed` when a member is corrupt or cut short.
    func inflateGzip(_ input: [UInt8], sizeHint: Int, limit: Int) throws(ArchiveError) -> [UInt8] {
        var output: [UInt8] = []
        var consumed = 0
        // Zero bytes after the last member are padding, which gzip itself ignores.
        while consumed < input.count, input[consumed...].contains(where: { $0 != 0 }) {
            var capacity = max(sizeHint - output.count, 1024)
            while true {
                var status = LIBDEFLATE_SUCCESS
                var memberIn = 0
                let member = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                    var memberOut = 0
                    status = input.withUnsafeBytes { source in
                        guard let base = source.baseAddress else { return LIBDEFLATE_BAD_DATA }
                        return libdeflate_gzip_decompress_ex(
                            handle, base + consumed, source.count - consumed, buffer.baseAddress, capacity, &memberIn,
                            &memberOut)
                    }
                    count = status == LIBDEFLATE_SUCCESS ? memberOut : 0
                }
                if status == LIBDEFLATE_INSUFFICIENT_SPACE {
                    guard output.count + capacity < limit else {
                        throw ArchiveError(.malformed, "gzip data decompresses to more than \(limit) bytes, the limit")
                    }
                    capacity = min(capacity * 2, limit - output.count)
                    continue
                }
                guard status == LIBDEFLATE_SUCCESS, memberIn > 0 else {
                    throw ArchiveError(.malformed, "gzip member at byte \(consumed) is corrupt or cut short")
                }
                output += member
                guard output.count <= limit else {
                    throw ArchiveError(.malformed, "gzip data decompresses to more than \(limit) bytes, the limit")
                }
                consumed += memberIn
                break
            }
        }
        return output
    }
}
