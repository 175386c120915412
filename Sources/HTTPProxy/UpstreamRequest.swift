import HTTPTypes

/// Where and how the proxy forwards one request.
public struct UpstreamRequest: Sendable {
    /// The upstream's IPv4 address, a literal such as `127.0.0.1`.
    public var host: String
    /// The upstream's port.
    public var port: Int
    /// The method sent upstream.
    public var method: HTTPMethod
    /// The request target sent upstream, path and query (after any rewrite).
    public var target: String
    /// The header fields sent upstream. The proxy drops hop-by-hop fields, writes the body's framing itself, and
    /// adds `host` when there is none.
    public var headers: HTTPHeaders
    /// The body sent upstream.
    public var body: [UInt8]
    /// How long a new connection to the upstream may take.
    public var connectTimeout: Duration
    /// How long, from the whole request having arrived, until the whole response has been relayed; nil for no
    /// limit. Envoy's route `timeout`.
    public var timeout: Duration?
    /// Fields set on the upstream's response before it is relayed, replacing any of the same name.
    public var responseHeaders: HTTPHeaders

    /// A forwarded request.
    public init(
        host: String, port: Int, method: HTTPMethod, target: String, headers: HTTPHeaders = [:], body: [UInt8] = [],
        connectTimeout: Duration = .seconds(5), timeout: Duration? = .seconds(15), responseHeaders: HTTPHeaders = [:]
    ) {
        self.host = host
        self.port = port
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.responseHeaders = responseHeaders
    }
}
