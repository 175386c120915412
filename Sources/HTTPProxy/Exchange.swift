import HTTPTypes

/// One request on its way through the proxy: what the client asked, what the handler decided, and where its
/// upstream leg has got to.
final class Exchange {
    let request: ProxyRequest
    let decision: ProxyDecision
    let upstream: UpstreamRequest
    let started: ContinuousClock.Instant
    /// When the whole response must have been relayed, from the route's timeout.
    let deadline: ContinuousClock.Instant?
    /// The connection carrying the upstream leg, while one does.
    var connection: UpstreamConnection?
    /// True once the request was sent again on a fresh connection after a reused one turned out closed.
    var retried = false
    /// The status relayed to the client, once the response head has gone out.
    var relayedStatus: HTTPStatus?

    init(request: ProxyRequest, decision: ProxyDecision, upstream: UpstreamRequest, started: ContinuousClock.Instant) {
        self.request = request
        self.decision = decision
        self.upstream = upstream
        self.started = started
        self.deadline = upstream.timeout.map { started + $0 }
    }

    /// Whether sending the request twice is harmless (RFC 9110, section 9.2.2), so a reused connection found
    /// closed may be replaced by a fresh one.
    var isRetriable: Bool {
        !retried && [.get, .head, .options, .put, .delete].contains(request.method)
    }
}
