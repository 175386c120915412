/// Why a compressed stream or an archive could not be read.
public struct ArchiveError: Error, Equatable, CustomStringConvertible {
    /// What went wrong, in a form a caller can branch on.
    public enum Kind: Equatable, Sendable {
        /// The bytes are not in the expected format (bad magic, header or checksum).
        case malformed
        /// The stream ends before its declared end.
        case truncated
        /// A zip entry uses a compression method other than stored or deflate.
        case unsupportedMethod(UInt16)
        /// The archive has no entry of the requested name.
        case missingEntry(String)
    }

    /// What went wrong.
    public let kind: Kind
    /// A sentence for people: what was being read and what was found.
    public let reason: String

    /// Creates an error of `kind` with a human-readable `reason`.
    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    /// The reason.
    public var description: String { reason }
}
