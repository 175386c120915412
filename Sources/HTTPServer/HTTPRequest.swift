import Foundation
import HTTPTypes

/// A request as the server's handler sees it, with the whole body already read.
public struct HTTPRequest: Sendable {
    /// One `name=value` item of the query string, percent-decoded.
    public struct QueryItem: Sendable, Equatable {
        /// The decoded name.
        public var name: String
        /// The decoded value; empty when the item had no `=`.
        public var value: String

        /// An item from its decoded name and value.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The request method.
    public var method: HTTPMethod
    /// The path without the query string, such as `/api/v1/namespaces`.
    public var path: String
    /// The query items in the order they appeared.
    public var query: [QueryItem]
    /// The request's header fields.
    public var headers: HTTPHeaders
    /// The body bytes; empty when the request had none.
    public var body: [UInt8]
    /// The peer as `address:port`, or nil when the server could not tell.
    public var remoteAddress: String?

    /// A request; servers build these, tests may too.
    public init(
        method: HTTPMethod, path: String, query: [QueryItem] = [], headers: HTTPHeaders = [:], body: [UInt8] = [],
        remoteAddress: String? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// The value of the first query item called `name`, or nil.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// The body decoded as JSON into `type`.
    ///
    /// - Throws: the decoder's `DecodingError` when the body does not match `type`.
    public func decodeJSON<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(type, from: Data(body))
    }
}
