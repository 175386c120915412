import Archives
import Foundation

/// An array in NumPy's `.npy` format, alone or as an entry of an `.npz` archive.
///
/// The format is a magic string, a version, a header length, and a Python dict literal giving
/// `descr` (the dtype), `fortran_order` and `shape`, followed by the raw data.
public struct NumPyArray: Sendable {
    /// The array's shape.
    public let shape: [Int]
    /// The dtype as NumPy writes it, such as `|u1` or `<i8`.
    public let dtype: String
    private let data: [UInt8]

    /// Parses a `.npy` file's bytes.
    ///
    /// - Parameter source: names the file in error messages.
    public init(npy bytes: [UInt8], source: String) throws(InferenceError) {
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw InferenceError(.corrupt, "\(source) is not a NumPy array (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let lengthSize = major == 1 ? 2 : 4
        guard major >= 1, major <= 3, bytes.count >= 8 + lengthSize else {
            throw InferenceError(.unsupported, "\(source) is NumPy format version \(major); versions 1-3 are read")
        }
        var headerLength = 0
        for index in 0..<lengthSize {
            headerLength |= Int(bytes[8 + index]) << (8 * index)
        }
        let dataStart = 8 + lengthSize + headerLength
        guard dataStart <= bytes.count else {
            throw InferenceError(.corrupt, "\(source) is a NumPy array cut short inside its header")
        }
        let header = String(decoding: bytes[(8 + lengthSize)..<dataStart], as: UTF8.self)

        guard let dtype = Self.quotedValue(of: "descr", in: header) else {
            throw InferenceError(.corrupt, "\(source): NumPy header has no 'descr': \(header)")
        }
        guard !header.contains("'fortran_order': True") else {
            throw InferenceError(.unsupported, "\(source): Fortran-ordered arrays are not read")
        }
        guard let shape = Self.shape(in: header) else {
            throw InferenceError(.corrupt, "\(source): NumPy header has no readable 'shape': \(header)")
        }
        guard let elementSize = Self.elementSizes[dtype] else {
            let known = Self.elementSizes.keys.sorted().joined(separator: ", ")
            throw InferenceError(
                .unsupported, "\(source) has dtype \(dtype); arrays of \(known) are read, and pixels must be |u1")
        }
        let available = bytes.count - dataStart
        guard let count = checkedProduct(shape), count <= available, count * elementSize == available else {
            throw InferenceError(
                .corrupt,
                "\(source): shape \(shape) of \(dtype) does not match the \(available) bytes of data the file holds"
            )
        }
        self.shape = shape
        self.dtype = dtype
        self.data = Array(bytes[dataStart...])
    }

    /// Reads the array called `name` (default: the archive's only array) from an `.npz` archive.
    public init(npz bytes: [UInt8], named name: String? = nil, source: String) throws(InferenceError) {
        let entry: [UInt8]
        do throws(ArchiveError) {
            let archive = try ZipArchive(bytes: bytes)
            if let name {
                entry = try archive.contents(of: name + ".npy")
            } else if archive.entries.count == 1, let only = archive.entries.first {
                entry = try archive.contents(of: only)
            } else {
                let names = archive.entries.map(\.name).joined(separator: ", ")
                throw ArchiveError(
                    .missingEntry(""), "the archive holds \(archive.entries.count) arrays (\(names)); name one")
            }
        } catch {
            throw InferenceError(.corrupt, "\(source) is not a readable .npz archive: \(error.reason)")
        }
        try self.init(npy: entry, source: source)
    }

    /// The elements as unsigned bytes; the dtype must be `|u1`.
    public func bytes() throws(InferenceError) -> [UInt8] {
        guard dtype == "|u1" || dtype == "<u1" else {
            throw InferenceError(.unsupported, "array has dtype \(dtype); 8-bit unsigned pixels (|u1) were expected")
        }
        return data
    }

    private static let elementSizes: [String: Int] = [
        "|u1": 1, "<u1": 1, "|i1": 1, "<i1": 1, "<u2": 2, "<i2": 2, "<u4": 4, "<i4": 4, "<u8": 8, "<i8": 8,
    ]

    private static func quotedValue(of key: String, in header: String) -> String? {
        guard let keyRange = header.range(of: "'\(key)':") else { return nil }
        let rest = header[keyRange.upperBound...]
        guard let open = rest.firstIndex(of: "'") else { return nil }
        let afterOpen = rest.index(after: open)
        guard let close = rest[afterOpen...].firstIndex(of: "'") else { return nil }
        return String(rest[afterOpen..<close])
    }

    private static func shape(in header: String) -> [Int]? {
        guard let keyRange = header.range(of: "'shape':"),
            let open = header[keyRange.upperBound...].firstIndex(of: "("),
            let close = header[open...].firstIndex(of: ")")
        else { return nil }
        let parts = header[header.index(after: open)..<close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let dimensions = parts.compactMap { Int($0) }
        return dimensions.count == parts.count ? dimensions : nil
    }
}
