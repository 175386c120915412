import CZlib

/// The CRC-32 that gzip and zip use, computed by zlib.
enum CRC32 {
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            UInt32(crc32_z(0, buffer.baseAddress, buffer.count))
        }
    }
}
