import HTTPTypes

/// One request while libmicrohttpd delivers it: the head captured on the first call, then the body as it
/// arrives in pieces.
///
/// Lifetime: the access handler creates it on a request's first call and stores it, retained, in the
/// per-request `con_cls` pointer; the request-completed callback releases it. libmicrohttpd calls both on
/// the request's connection thread, one call at a time, so the mutable fields need no lock.
final class RequestState {
    let method: HTTPMethod
    let path: String
    let query: [HTTPRequest.QueryItem]
    let headers: HTTPHeaders
    let remoteAddress: String?
    let started = ContinuousClock.now
    var body: [UInt8] = []
    /// Set once a response is queued before the handler ran (413); later calls discard the rest.
    var answered = false

    init(
        method: HTTPMethod, path: String, query: [HTTPRequest.QueryItem], headers: HTTPHeaders,
        remoteAddress: String?
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.remoteAddress = remoteAddress
    }

    var request: HTTPRequest {
        HTTPRequest(
            method: method, path: path, query: query, headers: headers, body: body, remoteAddress: remoteAddress)
    }
}
