/// Why a proxy server could not start.
public struct ProxyServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What failed.
    public enum Code: Sendable, Equatable {
        /// The listen address is not an IPv4 literal.
        case invalidAddress
        /// A system call needed to start failed (most often: the port is in use).
        case couldNotStart
    }

    /// What failed.
    public var code: Code
    /// What went wrong and what to do.
    public var message: String

    /// An error.
    public init(_ code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
