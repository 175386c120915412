import Foundation
import HTTPTypes

/// A response read in full.
public struct HTTPClientResponse: Sendable {
    /// The final status (after any `100 Continue`).
    public var status: HTTPStatus
    /// The final response's header fields.
    public var headers: HTTPHeaders
    /// The body bytes.
    public var body: [UInt8]

    /// A response from its parts.
    public init(status: HTTPStatus, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The body as UTF-8 text, with invalid sequences repaired.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body decoded as JSON into `type`.
    ///
    /// - Throws: the decoder's `DecodingError`.
    public func decodeJSON<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(type, from: Data(body))
    }
}

/// A response whose body arrives as it is sent, for Kubernetes `watch` and `follow`.
public struct HTTPClientStreamingResponse: Sendable {
    /// The final status.
    public var status: HTTPStatus
    /// The header fields.
    public var headers: HTTPHeaders
    /// The body in the pieces the network delivered. It finishes when the server ends the body, and throws
    /// an `HTTPClientError` when the transfer fails. Stopping iteration early ends the transfer.
    public var body: AsyncThrowingStream<[UInt8], any Error>

    /// The body split at `\n`, each line without its terminator (a trailing `\r` is dropped too); a last line
    /// without a terminator is delivered when the body ends.
    public var lines: AsyncThrowingStream<String, any Error> {
        let body = self.body
        return AsyncThrowingStream { continuation in
            let task = Task {
                var partial: [UInt8] = []
                do {
                    for try await chunk in body {
                        var start = chunk.startIndex
                        while let newline = chunk[start...].firstIndex(of: UInt8(ascii: "\n")) {
                            partial.append(contentsOf: chunk[start..<newline])
                            if partial.last == UInt8(ascii: "\r") { partial.removeLast() }
                            continuation.yield(String(decoding: partial, as: UTF8.self))
                            partial.removeAll(keepingCapacity: true)
                            start = chunk.index(after: newline)
                        }
                        partial.append(contentsOf: chunk[start...])
                    }
                    if !partial.isEmpty { continuation.yield(String(decoding: partial, as: UTF8.self)) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
