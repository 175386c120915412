import Foundation
import HTTPTypes

/// A request for `HTTPClient`: method, URL, header fields, body, and an optional per-call timeout.
public struct HTTPClientRequest: Sendable {
    /// The request method.
    public var method: HTTPMethod
    /// The absolute `http` or `https` URL, query included.
    public var url: String
    /// The header fields to send.
    public var headers: HTTPHeaders
    /// The body; empty for none.
    public var body: [UInt8]
    /// The total time this call may take, replacing the client's default; the connect timeout still applies.
    public var timeout: Duration?

    /// A request from its parts.
    public init(
        method: HTTPMethod = .get, url: String, headers: HTTPHeaders = [:], body: [UInt8] = [], timeout: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// Sets `Authorization: Bearer <token>`.
    public mutating func setBearerToken(_ token: String) {
        headers["Authorization"] = "Bearer \(token)"
    }

    /// Sets the body to `value` encoded as JSON and `Content-Type: application/json`.
    ///
    /// - Throws: the encoder's `EncodingError`.
    public mutating func setJSONBody<T: Encodable>(_ value: T, encoder: JSONEncoder = JSONEncoder()) throws {
        body = Array(try encoder.encode(value))
        headers["Content-Type"] = "application/json"
    }
}
