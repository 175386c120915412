/// Why an upstream gave no complete response.
public struct UpstreamFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of failure, which a handler maps to statuses (Envoy: 503 for the first two, 504 for a timeout).
    public enum Kind: String, Sendable, Equatable {
        /// The connection was refused or failed.
        case connectFailed = "connect_failed"
        /// The connection did not open within the connect timeout.
        case connectTimedOut = "connect_timeout"
        /// The response did not end within the request's timeout.
        case timedOut = "timeout"
        /// The upstream closed or reset the connection before the response ended.
        case reset
        /// The upstream's bytes are not an HTTP/1.1 response the proxy can relay.
        case invalidResponse = "invalid_response"
    }

    /// What happened.
    public var kind: Kind
    /// The detail, such as the system's reason for a failed connect.
    public var detail: String

    /// A failure.
    public init(_ kind: Kind, detail: String) {
        self.kind = kind
        self.detail = detail
    }

    /// The kind and the detail.
    public var description: String { "\(kind.rawValue): \(detail)" }
}
