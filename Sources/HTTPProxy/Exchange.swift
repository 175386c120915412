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

/// How a body is delimited on the wire toward the client.
enum BodyFraming {
    /// No body follows the head.
    case none
    /// A `Content-Length` body, relayed byte for byte.
    case length
    /// Chunked: each piece from the upstream becomes one chunk.
    case chunked
    /// The body runs until the connection closes (for HTTP/1.0 clients, which know no chunks).
    case untilClose
}

/// Header fields that describe one connection and are never relayed (RFC 9110, section 7.6.1), plus the
/// body's framing, which the proxy writes itself.
enum HopByHop {
    static let names = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "content-length", "expect",
    ]

    /// Whether `name` is one of `names`, in any case; compared in place, since it runs for every field relayed.
    static func contains(_ name: String) -> Bool {
        names.contains { HTTPHeaders.sameName($0, name) }
    }

    /// Whether the field name `bytes` is one of `names`, in any case.
    static func contains(bytes: ArraySlice<UInt8>) -> Bool {
        names.contains { ASCII.equalIgnoringCase(bytes, $0) }
    }

    /// The fields of `fields` to relay: without hop-by-hop fields or those the `Connection` field names, except
    /// those in `kept`.
    static func relayed(_ fields: [HTTPHeaders.Field], keeping kept: [String] = []) -> [HTTPHeaders.Field] {
        var named: [String] = []
        for field in fields where HTTPHeaders.sameName(field.name, "connection") {
            for option in field.value.utf8.split(separator: UInt8(ascii: ",")) {
                let blank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
                let start = option.firstIndex { !blank($0) } ?? option.endIndex
                let end = option.lastIndex { !blank($0) }.map { option.index(after: $0) } ?? start
                named.append(String(Substring(option[start..<end])))
            }
        }
        return fields.filter { field in
            if kept.contains(where: { HTTPHeaders.sameName($0, field.name) }) { return true }
            return !contains(field.name) && !named.contains { HTTPHeaders.sameName($0, field.name) }
        }
    }
}

/// Status lines as bytes, made once per code.
enum StatusLine {
    private static let common: [Int: [UInt8]] = Dictionary(
        uniqueKeysWithValues: (100..<600).compactMap { code in
            let status = HTTPStatus(code: code)
            return status.reasonPhrase.isEmpty ? nil : (code, line(status))
        })

    /// `HTTP/1.1 <code> <reason>` and CRLF.
    static func bytes(_ status: HTTPStatus) -> [UInt8] {
        common[status.code] ?? line(status)
    }

    private static func line(_ status: HTTPStatus) -> [UInt8] {
        Array("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n".utf8)
    }
}

extension String {
    /// Text from UTF-8 bytes, invalid sequences replaced; through a buffer pointer, which takes the fast path.
    init(utf8Bytes bytes: [UInt8]) {
        self = bytes.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
    }

    /// Text from a slice of UTF-8 bytes, the same way.
    init(utf8Bytes bytes: ArraySlice<UInt8>) {
        self = bytes.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
    }
}

extension Array where Element == UInt8 {
    /// Appends the UTF-8 bytes of `text`.
    mutating func append(_ text: String) {
        append(contentsOf: text.utf8)
    }

    /// Appends `name: value` and CRLF.
    mutating func appendField(_ name: String, _ value: String) {
        append(contentsOf: name.utf8)
        append(contentsOf: ": ".utf8)
        append(contentsOf: value.utf8)
        append(contentsOf: "\r\n".utf8)
    }
}
