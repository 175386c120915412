import CHTTPParser
import HTTPTypes

/// One direction of an HTTP/1.1 connection (the requests a client sends, or the responses an upstream sends),
/// parsed by http-parser.
///
/// The parser collects each message's head; the owner sees the head and the body through `onHead` and
/// `onBody` as they are parsed. It pauses at the end of every message, so bytes of a pipelined next message
/// stay unparsed until the owner has dealt with the current one and calls `resume()`.
final class MessageParser {
    /// The kinds of stream: requests from a client, responses from an upstream.
    enum Kind {
        case request
        case response
    }

    /// What `parse` found.
    enum Outcome: Equatable {
        /// Every byte was taken; the message goes on.
        case needsMore
        /// A message ended after the first `consumed` bytes; the rest belong to the next one.
        case messageComplete(consumed: Int)
        /// The bytes are not valid HTTP/1.1, or a callback refused them.
        case failed(Failure)
    }

    /// Why parsing stopped.
    enum Failure: Equatable {
        /// The head is larger than http-parser's limit (80 KiB).
        case headTooLarge
        /// `onBody` refused more bytes, or `onHead` refused the head.
        case refused
        /// A field name is not a token (RFC 9110, section 5.1), such as `Transfer-Encoding :` with a space: a
        /// proxy that forwarded it could be read differently upstream.
        case invalidFieldName(String)
        /// The stream switched protocols where no message end was seen (a `CONNECT` tunnel, a 101 response).
        case upgrade
        /// Anything else, with http-parser's name and description of it.
        case invalid(String)
    }

    /// What `onHead` tells the parser about the body.
    enum HeadVerdict {
        /// Parse the body the head announces.
        case readBody
        /// The message has no body whatever the head says (a response to `HEAD`).
        case noBody
        /// Stop: the owner will not take this message.
        case refuse
    }

    /// The request target (requests only), as bytes, gathered across callbacks.
    private(set) var target: [UInt8] = []
    /// The current message's field names and values, back to back; `spans` says where each is.
    private(set) var headBytes: [UInt8] = []
    /// Where each header field's name and value lie in `headBytes`, complete once `onHead` is called.
    private(set) var spans: [FieldSpan] = []
    /// Called when the head is complete.
    var onHead: () -> HeadVerdict = { .readBody }
    /// Called with each piece of the body; false stops parsing with `.refused`.
    var onBody: (UnsafeRawBufferPointer) -> Bool = { _ in true }

    // The C parser and its callback table, owned by this object and freed in `deinit`. The callbacks reach this
    // object through `state.pointee.data`, an unretained pointer: they run only inside `parse`, which this object
    // calls, so it is alive whenever they run.
    private let state: UnsafeMutablePointer<http_parser>
    private let settings: UnsafeMutablePointer<http_parser_settings>
    private var nameStart = 0
    private var valueStart = 0
    private var readingName = false
    private var readingValue = false
    private var invalidName: String?
    /// True once the head is complete: header callbacks after it are a chunked body's trailers, which are dropped.
    private var headDone = false
    /// True from a message's first byte (past any empty lines before it) to its end.
    private(set) var inMessage = false

    init(_ kind: Kind) {
        state = .allocate(capacity: 1)
        settings = .allocate(capacity: 1)
        http_parser_init(state, kind == .request ? HTTP_REQUEST : HTTP_RESPONSE)
        http_parser_settings_init(settings)
        settings.pointee.on_message_begin = { parser in
            MessageParser.owner(of: parser)?.beginMessage()
            return 0
        }
        settings.pointee.on_url = { parser, bytes, count in
            MessageParser.owner(of: parser)?.target.append(bytes, count)
            return 0
        }
        settings.pointee.on_header_field = { parser, bytes, count in
            MessageParser.owner(of: parser)?.headerName(bytes, count)
            return 0
        }
        settings.pointee.on_header_value = { parser, bytes, count in
            MessageParser.owner(of: parser)?.headerValue(bytes, count)
            return 0
        }
        settings.pointee.on_headers_complete = { parser in
            // 0 reads the body, 1 tells http-parser there is none, anything else is an error.
            switch MessageParser.owner(of: parser)?.headComplete() ?? .refuse {
            case .readBody: 0
            case .noBody: 1
            case .refuse: 3
            }
        }
        settings.pointee.on_body = { parser, bytes, count in
            guard let bytes else { return 0 }
            return MessageParser.owner(of: parser)?.onBody(UnsafeRawBufferPointer(start: bytes, count: count)) == true
                ? 0 : 1
        }
        settings.pointee.on_message_complete = { parser in
            MessageParser.owner(of: parser)?.inMessage = false
            http_parser_pause(parser, 1)
            return 0
        }
        state.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        state.deallocate()
        settings.deallocate()
    }

    /// The object whose parser this is; set in `init` before any callback can run (see the note on `state`).
    private static func owner(of parser: UnsafeMutablePointer<http_parser>?) -> MessageParser? {
        guard let context = parser?.pointee.data else { return nil }
        return Unmanaged<MessageParser>.fromOpaque(context).takeUnretainedValue()
    }

    // MARK: - Parsing

    /// Parses `bytes`, calling `onHead` and `onBody` as the message's parts arrive.
    func parse(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return .needsMore }
        let consumed = http_parser_execute(state, settings, base.assumingMemoryBound(to: CChar.self), bytes.count)
        return outcome(consumed: consumed, of: bytes.count)
    }

    /// Tells the parser the stream ended; a response whose body runs to the end of the connection completes here.
    func parseEndOfStream() -> Outcome {
        let consumed = http_parser_execute(state, settings, nil, 0)
        return outcome(consumed: consumed, of: 0)
    }

    /// Lets parsing go on past the end of the message that paused it.
    func resume() {
        http_parser_pause(state, 0)
    }

    private func outcome(consumed: Int, of count: Int) -> Outcome {
        let code = http_errno(rawValue: state.pointee.http_errno)
        switch code {
        case HPE_OK:
            if state.pointee.upgrade == 1 { return .failed(.upgrade) }
            return consumed == count ? .needsMore : .failed(.invalid("HPE_UNKNOWN: the parser stopped early"))
        case HPE_PAUSED:
            return .messageComplete(consumed: consumed)
        case HPE_HEADER_OVERFLOW:
            return .failed(.headTooLarge)
        case HPE_CB_headers_complete:
            return .failed(invalidName.map { .invalidFieldName($0) } ?? .refused)
        case HPE_CB_body:
            return .failed(.refused)
        case HPE_INVALID_CONTENT_LENGTH:
            // http-parser's own words ("invalid character") are wrong for a length that only overflows.
            return .failed(.invalid("HPE_INVALID_CONTENT_LENGTH: Content-Length is not a valid length, or is repeated"))
        default:
            let name = String(cString: http_errno_name(code))
            let description = String(cString: http_errno_description(code))
            return .failed(.invalid("\(name): \(description)"))
        }
    }

    // MARK: - What the parser knows about the current message

    /// The request method (requests only).
    var method: HTTPMethod {
        HTTPMethod(rawValue: String(cString: http_method_str(http_method(UInt32(state.pointee.method)))))
    }

    /// The status code (responses only).
    var statusCode: Int { Int(state.pointee.status_code) }

    /// Whether the connection may carry another message after this one, from the version and `Connection`.
    var keepsAlive: Bool { http_should_keep_alive(state) != 0 }

    /// The HTTP version the message states.
    var version: (major: Int, minor: Int) { (Int(state.pointee.http_major), Int(state.pointee.http_minor)) }

    /// True for HTTP/1.1 and later; HTTP/1.0 peers understand neither chunked bodies nor implied keep-alive.
    var isHTTP11: Bool {
        state.pointee.http_major > 1 || (state.pointee.http_major == 1 && state.pointee.http_minor >= 1)
    }

    /// Whether the message asked to switch protocols (`Upgrade` with `Connection: upgrade`, or `CONNECT`).
    var isUpgrade: Bool { state.pointee.upgrade == 1 }

    /// Whether the body is chunked (valid from the head on).
    var isChunked: Bool { state.pointee.flags & UInt32(F_CHUNKED.rawValue) != 0 }

    /// The `Content-Length`, when the head gave one (valid inside `onHead`).
    var declaredContentLength: UInt64? {
        state.pointee.flags & UInt32(F_CONTENTLENGTH.rawValue) != 0 ? state.pointee.content_length : nil
    }

    /// The header fields as strings, or nil when a name or value is not valid UTF-8 (which a string could only
    /// carry altered).
    var validatedFields: [HTTPHeaders.Field]? {
        var fields: [HTTPHeaders.Field] = []
        fields.reserveCapacity(spans.count)
        for span in spans {
            guard let name = String(validatingUTF8Bytes: headBytes[span.name]),
                let value = String(validatingUTF8Bytes: headBytes[span.value])
            else { return nil }
            fields.append(HTTPHeaders.Field(name: name, value: value))
        }
        return fields
    }

    /// The value of the first field called `name` (any case), as text.
    func value(of name: String) -> String? {
        spans.first { ASCII.equalIgnoringCase(headBytes[$0.name], name) }.map { String(utf8Bytes: headBytes[$0.value]) }
    }

    // MARK: - Callbacks

    private func beginMessage() {
        target.removeAll(keepingCapacity: true)
        headBytes.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
        readingName = false
        readingValue = false
        invalidName = nil
        headDone = false
        inMessage = true
    }

    private func headerName(_ bytes: UnsafePointer<CChar>?, _ count: Int) {
        guard !headDone else { return }
        if readingValue { commitField() }
        if !readingName {
            readingName = true
            nameStart = headBytes.count
        }
        headBytes.append(bytes, count)
    }

    private func headerValue(_ bytes: UnsafePointer<CChar>?, _ count: Int) {
        guard !headDone else { return }
        if !readingValue {
            readingValue = true
            valueStart = headBytes.count
        }
        headBytes.append(bytes, count)
    }

    private func headComplete() -> HeadVerdict {
        if readingName || readingValue { commitField() }
        headDone = true
        if invalidName != nil { return .refuse }
        return onHead()
    }

    private func commitField() {
        if !readingValue { valueStart = headBytes.count }
        // http-parser leaves surrounding whitespace out of the value, except trailing spaces before CRLF.
        var valueEnd = headBytes.count
        while valueEnd > valueStart,
            headBytes[valueEnd - 1] == UInt8(ascii: " ") || headBytes[valueEnd - 1] == UInt8(ascii: "\t")
        {
            valueEnd -= 1
        }
        let name = nameStart..<valueStart
        if invalidName == nil, name.isEmpty || !headBytes[name].allSatisfy(ASCII.isTokenCharacter) {
            invalidName = String(utf8Bytes: headBytes[name])
        }
        spans.append(FieldSpan(name: name, value: valueStart..<valueEnd))
        readingName = false
        readingValue = false
    }
}

/// Where one header field's name and value lie in a parser's `headBytes`.
struct FieldSpan {
    let name: Range<Int>
    let value: Range<Int>
}

extension Array where Element == UInt8 {
    /// Appends `count` bytes from a C buffer.
    fileprivate mutating func append(_ bytes: UnsafePointer<CChar>?, _ count: Int) {
        guard let bytes, count > 0 else { return }
        append(contentsOf: UnsafeRawBufferPointer(start: bytes, count: count))
    }
}
