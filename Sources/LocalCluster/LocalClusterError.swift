/// Why the local cluster could not start or do what it was asked.
public struct LocalClusterError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Equatable {
        /// The state directory or a file in it could not be created, read or written.
        case stateDirectory
        /// The database could not be opened or written.
        case database
        /// Certificates could not be made.
        case tls
        /// The HTTP server could not start.
        case server
        /// A manifest or the image map could not be read.
        case configuration
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, naming the file or value, and what to do.
    public var message: String

    /// An error from its parts.
    public init(_ code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
