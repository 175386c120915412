import CDeflate

/// The CRC-32 that gzip and zip use, computed by libdeflate.
enum CRC32 {
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            libdeflate_crc32(0, buffer.baseAddress, buffer.count)
        }
    }
}
