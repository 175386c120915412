import HTTPTypes

/// A request as a client sent it to the proxy: the head as written, and the whole body.
public struct ProxyRequest: Sendable {
    /// The request method.
    public var method: HTTPMethod
    /// The request target exactly as sent, path and query, still percent-encoded (`/free/predict?limit=2`).
    ///
    /// Routing on the target as sent, rather than on a decoded path, is what Envoy does: `/fre%65` is not `/free`.
    public var target: String
    /// The header fields in the order they were sent.
    public var headers: HTTPHeaders
    /// The whole body; empty when there was none.
    public var body: [UInt8]
    /// The client as `address:port`.
    public var remoteAddress: String

    /// A request; the proxy builds these, tests may too.
    public init(
        method: HTTPMethod, target: String, headers: HTTPHeaders = [:], body: [UInt8] = [],
        remoteAddress: String = "127.0.0.1:0"
    ) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// The target without its query string.
    public var path: Substring {
        target.firstIndex(of: "?").map { target[..<$0] } ?? target[...]
    }
}
