import Foundation
import HTTPTypes

/// A response a handler returns: a status, header fields, and a body that is either bytes or a stream.
public struct HTTPResponse: Sendable {
    /// What follows the header fields.
    public enum Body: Sendable {
        /// A body known in full, sent with a `Content-Length`.
        case bytes([UInt8])
        /// A body sent with chunked transfer encoding, one chunk as each element arrives, until the stream
        /// finishes. When the client goes away or the server stops, iteration is cancelled, so the stream's
        /// `onTermination` handler tells the producer to stop.
        case stream(AsyncStream<[UInt8]>)
    }

    /// The status code.
    public var status: HTTPStatus
    /// The header fields; the server adds `Content-Length` or `Transfer-Encoding` itself.
    public var headers: HTTPHeaders
    /// The body.
    public var body: Body

    /// A response from its parts.
    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = [:], body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response whose body is `value` encoded as JSON, with `Content-Type: application/json`.
    ///
    /// A value the encoder rejects (a non-finite `Double`, say) is a bug in the caller; rather than throw from
    /// every handler, this answers 500 with a JSON message naming the encoding error.
    public static func json<T: Encodable>(
        _ value: T, status: HTTPStatus = .ok, headers: HTTPHeaders = [:], encoder: JSONEncoder? = nil
    ) -> HTTPResponse {
        let encoder = encoder ?? makeJSONEncoder()
        var headers = headers
        headers["Content-Type"] = "application/json"
        do {
            return HTTPResponse(status: status, headers: headers, body: .bytes(Array(try encoder.encode(value))))
        } catch {
            return .error(.internalServerError, message: "the response could not be encoded as JSON: \(error)")
        }
    }

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ text: String, status: HTTPStatus = .ok, headers: HTTPHeaders = [:]) -> HTTPResponse {
        var headers = headers
        headers["Content-Type"] = "text/plain; charset=utf-8"
        return HTTPResponse(status: status, headers: headers, body: .bytes(Array(text.utf8)))
    }

    /// A streamed response whose chunks come from `chunks`, such as the events of a watch.
    public static func stream(
        _ chunks: AsyncStream<[UInt8]>, status: HTTPStatus = .ok, contentType: String = "application/json"
    ) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: .stream(chunks))
    }

    /// A JSON error body `{"code":N,"error":"..."}` with the given status, keys in a stable order.
    public static func error(_ status: HTTPStatus, message: String) -> HTTPResponse {
        let body = ErrorBody(error: message, code: status.code)
        let bytes = (try? makeJSONEncoder().encode(body)).map(Array.init) ?? Array("{}".utf8)
        return HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: .bytes(bytes))
    }

    /// 404 naming the path that matched nothing.
    public static func notFound(path: String) -> HTTPResponse {
        .error(.notFound, message: "no route for path \(path)")
    }

    /// 405 naming the method and, in `Allow`, the methods the path does accept.
    public static func methodNotAllowed(_ method: HTTPMethod, allowed: [HTTPMethod]) -> HTTPResponse {
        let allowList = allowed.map(\.rawValue).joined(separator: ", ")
        var response = HTTPResponse.error(
            .methodNotAllowed, message: "method \(method) is not allowed here; use one of: \(allowList)")
        response.headers["Allow"] = allowList
        return response
    }

    /// The body bytes, or nil for a streamed body.
    public var bodyBytes: [UInt8]? {
        if case .bytes(let bytes) = body { return bytes }
        return nil
    }

    /// `{"error": message, "code": status}`, the shape every component's JSON errors share.
    private struct ErrorBody: Encodable {
        var error: String
        var code: Int
    }
}

/// Sorted keys, so answers are stable, and slashes left as they are, so paths read as paths.
func makeJSONEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}
