import Foundation
import HTTPTypes

/// A whole response the proxy sends itself: a handler's direct answer, or the proxy's own error.
public struct ProxyResponse: Sendable, Equatable {
    /// The status.
    public var status: HTTPStatus
    /// The header fields. The proxy writes `content-length` and `connection` itself and ignores those given here.
    public var headers: HTTPHeaders
    /// The body.
    public var body: [UInt8]

    /// A response.
    public init(status: HTTPStatus, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON object of string fields, keys sorted, such as `{"error":"no route matches /x"}`.
    public static func json(_ fields: [String: String], status: HTTPStatus) -> ProxyResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a dictionary of strings cannot fail; the fallback keeps the answer JSON regardless.
        let body = (try? encoder.encode(fields)).map(Array.init) ?? Array("{}".utf8)
        return ProxyResponse(status: status, headers: ["content-type": "application/json"], body: body)
    }
}
