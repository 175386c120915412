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
