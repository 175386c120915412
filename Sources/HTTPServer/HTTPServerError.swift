/// Why a server could not start.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, stable enough to branch on.
    public enum Code: Sendable, Equatable {
        /// The host is not an IPv4 address literal.
        case invalidAddress
        /// libmicrohttpd refused to start: the port is taken, the limit is out of range, or the TLS material
        /// does not parse.
        case couldNotStart
        /// TLS was asked for but this libmicrohttpd was built without it.
        case tlsUnsupported
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong and what to try, naming the address.
    public var message: String

    /// An error from its kind and message.
    public init(_ code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
