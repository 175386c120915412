import Archives

/// An array in the IDX format that MNIST ships in: a magic number whose third byte is the element type
/// (0x08 for unsigned bytes) and fourth the number of dimensions, then big-endian 32-bit sizes and the data.
/// Gzip-compressed files are decompressed first.
public struct IDXFile: Sendable {
    /// The size of each dimension: `[count]` for labels, `[count, rows, columns]` for images.
    public let dimensions: [Int]
    /// The elements, in row-major order.
    public let values: [UInt8]

    /// Parses IDX bytes, gzip-compressed or not.
    ///
    /// - Parameter source: names the file in error messages.
    public init(bytes: [UInt8], source: String) throws(InferenceError) {
        var bytes = bytes
        if Gzip.isCompressed(bytes) {
            do {
                bytes = try Gzip.decompress(bytes)
            } catch {
                throw InferenceError(.corrupt, "\(source) is not a readable gzip file: \(error.reason)")
            }
        }
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw InferenceError(.corrupt, "\(source) is not an IDX file (its magic number does not start 00 00)")
        }
        guard bytes[2] == 0x08 else {
            throw InferenceError(
                .unsupported,
                "\(source) holds IDX element type 0x\(String(bytes[2], radix: 16)); only bytes (0x08) are read")
        }
        let rank = Int(bytes[3])
        let headerSize = 4 + 4 * rank
        guard rank > 0, bytes.count >= headerSize else {
            throw InferenceError(.corrupt, "\(source) is an IDX file cut short inside its header")
        }
        var dimensions: [Int] = []
        for axis in 0..<rank {
            let offset = 4 + 4 * axis
            dimensions.append(
                Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8
                    | Int(bytes[offset + 3]))
        }
        guard let count = checkedProduct(dimensions), bytes.count - headerSize == count else {
            throw InferenceError(
                .corrupt,
                "\(source) declares dimensions \(dimensions) but holds \(bytes.count - headerSize) bytes of data")
        }
        self.dimensions = dimensions
        bytes.removeFirst(headerSize)  // In place: the pixels are most of the file.
        self.values = bytes
    }
}
