/// What the proxy does with a request, as its handler decides.
public enum ProxyDecision: Sendable {
    /// Answer the client with this response, reaching no upstream.
    case respond(ProxyResponse)
    /// Forward the request and relay the upstream's response.
    case forward(UpstreamRequest)
}
