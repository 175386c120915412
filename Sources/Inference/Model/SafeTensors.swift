import Foundation

/// Reads the safetensors format: an 8-byte little-endian header length, a JSON header that gives each
/// tensor's dtype, shape and byte range, then the raw little-endian tensor data.
public enum SafeTensors {
    /// Parses `bytes` into named float32 tensors.
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - source: the file's name, for messages.
    /// - Throws: `InferenceError.corrupt` for a malformed header or out-of-range data,
    ///   `.unsupported` for a dtype other than F32.
    public static func parse(_ bytes: [UInt8], source: String) throws(InferenceError) -> [String: Tensor] {
        guard bytes.count >= 8 else {
            throw InferenceError(.corrupt, "\(source) is not safetensors: \(bytes.count) bytes, too short for a header")
        }
        var headerLength = 0
        for index in 0..<8 {
            headerLength |= Int(bytes[index]) << (8 * index)
        }
        guard headerLength > 0, headerLength <= bytes.count - 8 else {
            throw InferenceError(
                .corrupt, "\(source) is not safetensors: header length \(headerLength) exceeds the file")
        }
        let header: [String: Any]
        do {
            let object = try JSONSerialization.jsonObject(with: Data(bytes[8..<8 + headerLength]))
            guard let dictionary = object as? [String: Any] else { throw CocoaError(.coderReadCorrupt) }
            header = dictionary
        } catch {
            throw InferenceError(.corrupt, "\(source) is not safetensors: its header is not a JSON object")
        }

        let dataStart = 8 + headerLength
        var tensors: [String: Tensor] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int],
                offsets.count == 2
            else {
                throw InferenceError(.corrupt, "\(source): tensor \"\(name)\" lacks dtype, shape or data_offsets")
            }
            guard dtype == "F32" else {
                throw InferenceError(.unsupported, "\(source): tensor \"\(name)\" has dtype \(dtype); only F32 is read")
            }
            let available = bytes.count - dataStart
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= available,
                let count = checkedProduct(shape), count <= available / 4, offsets[1] - offsets[0] == count * 4
            else {
                throw InferenceError(
                    .corrupt,
                    "\(source): tensor \"\(name)\" of shape \(shape) at offsets \(offsets) does not fit the file's "
                        + "\(available) bytes of data")
            }
            let start = dataStart + offsets[0]
            let end = dataStart + offsets[1]
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { destination in
                bytes.withUnsafeBytes { source in
                    destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<end]))
                }
            }
            // The format is little-endian; so is every machine this runs on, but say so rather than assume.
            if Int(littleEndian: 1) != 1 {
                values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
            }
            tensors[name] = Tensor(shape: shape, values: values)
        }
        return tensors
    }
}
