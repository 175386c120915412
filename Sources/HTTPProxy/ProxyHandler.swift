import HTTPTypes

/// Decides, per request, what the proxy does, and hears how each request ended.
///
/// Every method is called on one of the proxy's event-loop threads, which serve many connections each: they
/// must return promptly and never block.
public protocol ProxyHandler: Sendable {
    /// What to do with a request whose head and whole body have arrived.
    func decide(_ request: ProxyRequest) -> ProxyDecision

    /// The answer to send when the upstream gave no response, before any of one reached the client.
    func answer(_ failure: UpstreamFailure, request: ProxyRequest, upstream: UpstreamRequest) -> ProxyResponse

    /// Called once per request when its response has been sent, or when its connection was lost first.
    func finished(_ request: ProxyRequest, decision: ProxyDecision, outcome: ProxyOutcome)

    /// The answer to a request the proxy refused before any handler could see it (malformed, too large, too
    /// slow), given the proxy's own; the place to add fields and to log it. The connection closes after it.
    func refused(_ response: ProxyResponse, remoteAddress: String) -> ProxyResponse
}

extension ProxyHandler {
    /// Sends the proxy's answer unchanged.
    public func refused(_ response: ProxyResponse, remoteAddress: String) -> ProxyResponse { response }
}
