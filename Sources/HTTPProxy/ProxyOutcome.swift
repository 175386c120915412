import HTTPTypes

/// How one request ended.
public struct ProxyOutcome: Sendable {
    /// The status sent to the client; nil when the connection was lost before a response head went out.
    public var status: HTTPStatus?
    /// Why the upstream gave no complete response, when it did not.
    public var failure: UpstreamFailure?
    /// From the whole request having arrived to the last response byte written (or the loss).
    public var elapsed: Duration
    /// True when the whole response was handed to the client's connection.
    public var completed: Bool
}
