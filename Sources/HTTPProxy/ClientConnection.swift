import CEventPoll
import Foundation
import HTTPTypes

/// One client's connection: reads its requests one at a time, has each decided, and writes each response,
/// directly or relayed from an upstream, before it reads the next (pipelined requests wait their turn).
final class ClientConnection: EventSource {
    /// Where the connection is.
    private enum Phase {
        /// Waiting for, or reading, a request.
        case reading
        /// The request went upstream; nothing of the response has been written yet.
        case awaitingUpstream(Exchange)
        /// The upstream's response head went out; its body follows as it arrives.
        case relaying(Exchange)
        /// The whole response is in `output`; once written, `completion` is reported.
        case flushing(Completion)
        /// A refusal went out and the sending side is shut; what the client still sends is read and dropped for a
        /// moment, so that closing does not reset the connection before the client has read the refusal.
        case lingering
        case closed
    }

    /// What is reported once a response has been written.
    private struct Completion {
        let request: ProxyRequest
        let decision: ProxyDecision
        let status: HTTPStatus
        let failure: UpstreamFailure?
        let started: ContinuousClock.Instant
    }

    let descriptor: Int32
    let remote: String
    // unowned(unsafe): the loop holds every connection it serves (registrations, pool) and lives until its thread
    // ends, after the last of them; skipping the unowned reference count matters on this path.
    private unowned(unsafe) let loop: EventLoop
    private let parser = MessageParser(.request)
    private var phase = Phase.reading

    // Input: bytes read past the end of the current request, and whether the socket may hold more.
    private var pending: [UInt8] = []
    private var inputReady = false
    private var peerClosed = false
    private var readingNow = false
    // The request being read.
    private var body: [UInt8] = []
    private var partialRequest = false
    private var headReceived = false
    /// Where the relayed response begins in `output`, and whether any of it has been written.
    private var relayStart = 0
    private var relayWritten = false
    /// Set by `reject`: the refusal is followed by a lingering close, which ends when the client has been quiet
    /// for `lingerQuiet` or at `lingerUntil`, whichever comes first.
    private var refusing = false
    private var lingerUntil = ContinuousClock.Instant.now
    private static let lingerQuiet = Duration.milliseconds(250)
    private static let lingerLimit = Duration.seconds(2)
    /// Bytes of the current request's body counted against `bufferedBodyBudget`.
    private var bodyBytesHeld = 0
    private var rejection: ProxyResponse?
    // The current response's traits, fixed when its request completed.
    private var keepAlive = true
    private var clientSpeaksHTTP11 = true
    private var framing = BodyFraming.none
    // Output not yet taken by the kernel.
    private var output: [UInt8] = []
    private var outputSent = 0
    private var deadline: ContinuousClock.Instant

    /// Relayed bytes buffered for a slow client before the upstream is read no further.
    static let relayBacklogLimit = 1 << 20

    init(descriptor: Int32, remote: String, loop: EventLoop) {
        self.descriptor = descriptor
        self.remote = remote
        self.loop = loop
        self.deadline = loop.now + loop.shared.configuration.idleTimeout
        parser.onHead = { [unowned self] in requestHead() }
        parser.onBody = { [unowned self] bytes in requestBody(bytes) }
    }

    var backlog: Int { output.count - outputSent }

    // MARK: - Events

    func handle(events: UInt32) {
        if case .closed = phase { return }
        if case .lingering = phase {
            drainLingering()
            return
        }
        if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
            abort()
            return
        }
        if events & EPOLLRDHUP.rawValue != 0 {
            peerClosed = true
            switch phase {
            case .awaitingUpstream, .relaying:
                // The client went away while its response was on the way (nothing left unread means it sent its
                // end of stream right after the request): give up the upstream leg, as nginx and Envoy do.
                if Socket.hasEndOfStreamOnly(descriptor) {
                    abort()
                    return
                }
            default:
                break
            }
        }
        if events & EPOLLOUT.rawValue != 0 && backlog > 0 { flush() }
        if events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue) != 0 {
            inputReady = true
            if case .reading = phase { readRequests() }
        }
    }

    func checkDeadlines(now: ContinuousClock.Instant) {
        switch phase {
        case .reading:
            guard now >= deadline else { return }
            if partialRequest {
                let seconds = loop.shared.configuration.idleTimeout.components.seconds
                reject(.json(["error": "the request did not arrive within \(seconds) s"], status: 408))
            } else {
                close()
            }
        case .awaitingUpstream(let exchange), .relaying(let exchange):
            if case .relaying = phase, backlog > 0, now >= deadline {
                // The client has taken nothing for the whole idle timeout.
                abort()
                return
            }
            guard let limit = exchange.deadline, now >= limit, let timeout = exchange.upstream.timeout else { return }
            exchange.connection?.abandon()
            upstreamFailed(
                UpstreamFailure(.timedOut, detail: "no complete response within \(timeout)"), exchange: exchange)
        case .flushing:
            if now >= deadline { abort() }
        case .lingering:
            if now >= deadline { close() }
        case .closed:
            break
        }
    }

    /// Reads and drops what a refused client still sends, until it closes.
    private func drainLingering() {
        while true {
            switch Socket.read(descriptor, into: loop.readBuffer) {
            case .bytes:
                deadline = min(lingerUntil, loop.now + Self.lingerQuiet)
            case .wouldBlock:
                return
            case .endOfStream, .failed:
                close()
                return
            }
        }
    }

    /// Closes the connection if it is between requests; the loop calls this when the proxy stops.
    func closeIfIdle() {
        if case .reading = phase, !partialRequest, pending.isEmpty { close() }
    }

    // MARK: - Reading requests

    private func readRequests() {
        guard !readingNow else { return }
        readingNow = true
        defer { readingNow = false }
        while case .reading = phase {
            if !pending.isEmpty {
                let bytes = pending
                pending.removeAll(keepingCapacity: true)
                bytes.withUnsafeBytes { consume($0) }
                continue
            }
            guard inputReady else { return }
            switch Socket.read(descriptor, into: loop.readBuffer) {
            case .bytes(let count):
                // A short read emptied the socket; the next arrival brings a new edge.
                if count < loop.readBuffer.count { inputReady = peerClosed }
                // A request head must arrive whole within the idle timeout of the connection opening or of the last
                // response, however it trickles in (empty lines included); a body only needs to keep moving.
                if headReceived { deadline = loop.now + loop.shared.configuration.idleTimeout }
                consume(UnsafeRawBufferPointer(rebasing: loop.readBuffer[..<count]))
            case .wouldBlock:
                inputReady = false
            case .endOfStream, .failed:
                close()
            }
        }
    }

    private func consume(_ bytes: UnsafeRawBufferPointer) {
        defer { partialRequest = parser.inMessage }
        switch parser.parse(bytes) {
        case .needsMore:
            break
        case .messageComplete(let consumed):
            // Bytes past the request wait in `pending` until its response is out; the parser itself may go on.
            if consumed < bytes.count { pending.append(contentsOf: bytes[consumed...]) }
            parser.resume()
            requestComplete()
        case .failed(let failure):
            reject(response(for: failure))
        }
    }

    private func requestHead() -> MessageParser.HeadVerdict {
        headReceived = true
        // Each field costs its name, its value and four bytes of punctuation on the wire; the request line its
        // target, the method, the version and their spaces.
        let configuration = loop.shared.configuration
        let headSize = parser.target.count + parser.headBytes.count + 4 * parser.spans.count + 16
        if headSize > configuration.maxHeadSize {
            rejection = Self.headTooLarge(limit: configuration.maxHeadSize)
            return .refuse
        }
        if parser.spans.count > configuration.maxHeaderCount {
            rejection = .json(
                [
                    "error":
                        "the request has \(parser.spans.count) header fields; at most \(configuration.maxHeaderCount) are accepted"
                ], status: 431)
            return .refuse
        }
        let expectation = parser.value(of: "expect")
        if let problem = headProblem(expectation: expectation) {
            rejection = problem
            return .refuse
        }
        let limit = loop.shared.configuration.maxBodySize
        body.removeAll(keepingCapacity: true)
        if let length = parser.declaredContentLength {
            guard length <= UInt64(limit) else {
                rejection = .json(["error": "the request body is larger than \(limit) bytes"], status: 413)
                return .refuse
            }
            // Memory is committed as bytes arrive, not on the client's word.
            body.reserveCapacity(Int(min(length, 64 << 10)))
        }
        // headProblem refused any expectation other than 100-continue.
        if expectation != nil && parser.isHTTP11 {
            // The body is read here, not upstream, so the go-ahead comes from here too.
            output.append("HTTP/1.1 100 Continue\r\n\r\n")
            flush()
        }
        return .readBody
    }

    /// What makes a request head unacceptable whatever its route: RFC 9112's rules on the version and on Host.
    private func headProblem(expectation: String?) -> ProxyResponse? {
        let version = parser.version
        guard version.major == 1 else {
            return .json(
                ["error": "HTTP/\(version.major).\(version.minor) is not supported here; send HTTP/1.1"],
                status: version.major > 1 ? 505 : 400)
        }
        if let coding = parser.value(of: "transfer-encoding"), !HTTPHeaders.sameName(coding, "chunked") {
            // Any other coding would reach the upstream still encoded with nothing to say so.
            return .json(
                ["error": "Transfer-Encoding \(coding) is not supported; send chunked or a length"], status: 501)
        }
        if let expectation, !HTTPHeaders.sameName(expectation, "100-continue") {
            return .json(["error": "Expect: \(expectation) cannot be met; only 100-continue is"], status: 417)
        }
        return hostProblem().map { .json(["error": $0], status: 400) }
    }

    private func hostProblem() -> String? {
        let hosts = parser.spans.count { ASCII.equalIgnoringCase(parser.headBytes[$0.name], "host") }
        if hosts > 1 { return "the request has \(hosts) Host fields; send one" }
        if hosts == 0 && parser.isHTTP11 { return "an HTTP/1.1 request needs a Host field" }
        return nil
    }

    private func requestBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let limit = loop.shared.configuration.maxBodySize
        guard body.count + bytes.count <= limit else {
            rejection = .json(["error": "the request body is larger than \(limit) bytes"], status: 413)
            return false
        }
        // Bodies are held whole until their responses end; all connections together hold at most the budget.
        let held = loop.shared.bufferedBodyBytes.add(bytes.count, ordering: .relaxed).newValue
        bodyBytesHeld += bytes.count
        guard held <= loop.shared.configuration.bufferedBodyBudget else {
            rejection = .json(
                ["error": "the proxy is holding too many request bodies at once; retry shortly"], status: 503)
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    /// Gives the current request's body bytes back to the shared budget.
    private func releaseBody() {
        guard bodyBytesHeld > 0 else { return }
        loop.shared.bufferedBodyBytes.subtract(bodyBytesHeld, ordering: .relaxed)
        bodyBytesHeld = 0
    }

    private static func headTooLarge(limit: Int) -> ProxyResponse {
        .json(["error": "the request's line and header fields are larger than \(limit >> 10) KiB"], status: 431)
    }

    private func response(for failure: MessageParser.Failure) -> ProxyResponse {
        switch failure {
        case .headTooLarge:
            Self.headTooLarge(limit: min(loop.shared.configuration.maxHeadSize, 80 << 10))
        case .refused:
            rejection ?? .json(["error": "the request was refused"], status: 400)
        case .invalidFieldName(let name):
            .json(["error": "malformed HTTP request: the field name \"\(name)\" is not a token"], status: 400)
        case .upgrade:
            .json(["error": "CONNECT is not supported: this is a reverse proxy"], status: 501)
        case .invalid(let reason):
            .json(["error": "malformed HTTP request: \(reason)"], status: 400)
        }
    }

    private func requestComplete() {
        let started = ContinuousClock.now
        // The handler sees end-to-end fields only: a client cannot have the proxy drop fields that the handler
        // adds by naming them in its Connection field.
        guard let fields = parser.validatedFields, let sentTarget = String(validatingUTF8Bytes: parser.target[...])
        else {
            // Strings would carry the bytes altered (as U+FFFD), so the request could not be relayed as sent.
            reject(.json(["error": "the request target or a header field is not valid UTF-8"], status: 400))
            return
        }
        var headers = HTTPHeaders(HopByHop.relayed(fields))
        var target = sentTarget
        if let (authority, path) = Self.splitAbsoluteForm(target) {
            guard !authority.contains("@") else {
                reject(.json(["error": "the request target carries user information (user@host)"], status: 400))
                return
            }
            // RFC 9112, section 3.2.2: an absolute-form target's authority replaces the Host field.
            target = path
            headers["host"] = authority
        }
        let request = ProxyRequest(
            method: parser.method, target: target, headers: headers, body: body, remoteAddress: remote)
        body = []
        partialRequest = false
        headReceived = false
        // A request asking to switch protocols is served as plain HTTP (RFC 9110, section 7.8, lets a server
        // ignore Upgrade); the bytes after it may be in the other protocol, so the connection ends with it.
        keepAlive = parser.keepsAlive && !loop.draining && !parser.isUpgrade
        clientSpeaksHTTP11 = parser.isHTTP11
        if request.method.rawValue == "CONNECT" {
            reject(.json(["error": "CONNECT is not supported: this is a reverse proxy"], status: 501))
            return
        }

        let decision = loop.shared.handler.decide(request)
        switch decision {
        case .respond(let response):
            send(
                response,
                completion: Completion(
                    request: request, decision: decision, status: response.status, failure: nil, started: started))
        case .forward(let upstream):
            forward(Exchange(request: request, decision: decision, upstream: upstream, started: started))
        }
    }

    /// The authority and the origin-form path of an absolute-form target (`http://tiers/free?x` is `tiers` and
    /// `/free?x`), or nil for any other form.
    static func splitAbsoluteForm(_ target: String) -> (authority: String, path: String)? {
        guard !target.hasPrefix("/"), let scheme = target.range(of: "://"),
            ["http", "https"].contains(target[..<scheme.lowerBound].lowercased())
        else { return nil }
        let rest = target[scheme.upperBound...]
        let pathStart = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let path = rest[pathStart...]
        return (String(rest[..<pathStart]), path.hasPrefix("/") ? String(path) : "/" + path)
    }

    /// Answers a request that could not be read, then closes: what follows it on the connection cannot be trusted.
    private func reject(_ refusal: ProxyResponse) {
        loop.shared.logger.debug(
            "request rejected", ["remote": remote, "status": refusal.status.code, "reason": refusal.bodyText])
        let response = loop.shared.handler.refused(refusal, remoteAddress: remote)
        keepAlive = false
        refusing = true
        clientSpeaksHTTP11 = true
        pending.removeAll()
        write(response, headRequest: false)
        phase = .flushing(
            Completion(
                request: ProxyRequest(method: "-", target: "-", remoteAddress: remote), decision: .respond(response),
                status: response.status, failure: nil, started: loop.now))
        flush()
    }

    // MARK: - Writing responses

    private func send(_ response: ProxyResponse, completion: Completion) {
        write(response, headRequest: completion.request.method == .head)
        phase = .flushing(completion)
        flush()
    }

    /// Serializes a whole response into `output`.
    private func write(_ response: ProxyResponse, headRequest: Bool) {
        if loop.draining { keepAlive = false }
        output.append(contentsOf: StatusLine.bytes(response.status))
        for field in HopByHop.relayed(response.headers.fields) {
            output.appendField(field.name, field.value)
        }
        output.appendField("content-length", String(response.body.count))
        if !keepAlive {
            output.appendField("connection", "close")
        } else if !clientSpeaksHTTP11 {
            output.appendField("connection", "keep-alive")
        }
        output.append("\r\n")
        if !headRequest { output.append(contentsOf: response.body) }
    }

    /// Writes what the kernel takes; the rest waits for the socket's next writable edge.
    func flush() {
        let before = outputSent
        let drained = Socket.drain(descriptor, output, sent: &outputSent)
        if outputSent > before {
            deadline = loop.now + loop.shared.configuration.idleTimeout
            if case .relaying = phase, outputSent > relayStart { relayWritten = true }
        }
        switch drained {
        case .done:
            break
        case .blocked:
            return
        case .failed:
            abort()
            return
        }
        if output.capacity > 4 * Self.relayBacklogLimit { output = [] } else { output.removeAll(keepingCapacity: true) }
        outputSent = 0
        deadline = loop.now + loop.shared.configuration.idleTimeout
        switch phase {
        case .flushing(let completion):
            responseWritten(completion)
        case .relaying(let exchange):
            exchange.connection?.clientDrained()
        default:
            break
        }
    }

    private func responseWritten(_ completion: Completion) {
        releaseBody()
        report(
            completion.request, completion.decision, status: completion.status, failure: completion.failure,
            started: completion.started, completed: true)
        guard keepAlive && !loop.draining else {
            if refusing {
                shutdown(descriptor, Int32(SHUT_WR))
                phase = .lingering
                lingerUntil = loop.now + Self.lingerLimit
                deadline = min(lingerUntil, loop.now + Self.lingerQuiet)
                drainLingering()
            } else {
                close()
            }
            return
        }
        phase = .reading
        deadline = loop.now + loop.shared.configuration.idleTimeout
        readRequests()
    }

    private func report(
        _ request: ProxyRequest, _ decision: ProxyDecision, status: HTTPStatus?, failure: UpstreamFailure?,
        started: ContinuousClock.Instant, completed: Bool
    ) {
        // A request that could not be read was logged when it was rejected; the handler never saw it.
        guard request.method.rawValue != "-" else { return }
        loop.shared.handler.finished(
            request, decision: decision,
            outcome: ProxyOutcome(status: status, failure: failure, elapsed: .now - started, completed: completed))
    }

    // MARK: - The upstream leg

    private func forward(_ exchange: Exchange, freshConnection: Bool = false) {
        phase = .awaitingUpstream(exchange)
        let address = UpstreamAddress(host: exchange.upstream.host, port: exchange.upstream.port)
        if !freshConnection, let idle = loop.takeIdleUpstream(to: address) {
            idle.begin(exchange, for: self, reused: true)
            return
        }
        switch UpstreamConnection.open(to: address, loop: loop) {
        case .success(let connection):
            connection.begin(exchange, for: self, reused: false)
        case .failure(let failure):
            upstreamFailed(failure, exchange: exchange)
        }
    }

    /// The upstream's response head, in `parser`: relays it, and tells the parser whether a body follows.
    func relayHead(from parser: MessageParser, exchange: Exchange) -> MessageParser.HeadVerdict {
        let status = HTTPStatus(code: parser.statusCode)
        exchange.relayedStatus = status
        phase = .relaying(exchange)
        if loop.draining { keepAlive = false }
        let bodiless = exchange.request.method == .head || status.code == 204 || status.code == 304
        let contentLength = parser.declaredContentLength
        if bodiless {
            framing = .none
        } else if contentLength != nil && !parser.isChunked {
            framing = .length
        } else if clientSpeaksHTTP11 {
            framing = .chunked
        } else {
            framing = .untilClose
            keepAlive = false
        }

        // 1. The status line.
        relayStart = output.count
        relayWritten = false
        output.append(contentsOf: StatusLine.bytes(status))

        // 2. The upstream's fields, copied as bytes, except hop-by-hop ones, those its Connection names, and those
        // the handler sets (a response to HEAD keeps its Content-Length: it describes the body a GET would get).
        let head = parser.headBytes
        // The names Connection lists, lower-cased into a set, so the cost stays linear however many it lists.
        var named: Set<[UInt8]> = []
        for span in parser.spans where ASCII.equalIgnoringCase(head[span.name], "connection") {
            for token in head[span.value].split(separator: UInt8(ascii: ",")) {
                // `keep-alive` and `close` are the usual options, and name no field that is not dropped anyway.
                let option = ASCII.trimmed(token)
                if !HopByHop.isConnectionKeyword(option) { named.insert(ASCII.lowercased(option)) }
            }
        }
        let added = exchange.upstream.responseHeaders
        for span in parser.spans {
            let name = head[span.name]
            // Content-Length describes the body a GET would get: kept for HEAD and 304, forbidden on 204.
            let kept =
                (exchange.request.method == .head || status.code == 304)
                && ASCII.equalIgnoringCase(name, "content-length")
            if !kept && (HopByHop.contains(bytes: name) || (!named.isEmpty && named.contains(ASCII.lowercased(name)))) {
                continue
            }
            if added.contains(where: { ASCII.equalIgnoringCase(name, $0.name) }) { continue }
            output.append(contentsOf: name)
            output.append(contentsOf: ": ".utf8)
            output.append(contentsOf: head[span.value])
            output.append(contentsOf: "\r\n".utf8)
        }

        // 3. The handler's fields, the framing, and whether the connection stays open.
        for field in added {
            output.appendField(field.name, field.value)
        }
        switch framing {
        case .length: output.appendField("content-length", String(contentLength ?? 0))
        case .chunked: output.appendField("transfer-encoding", "chunked")
        case .none, .untilClose: break
        }
        if !keepAlive {
            output.appendField("connection", "close")
        } else if !clientSpeaksHTTP11 {
            output.appendField("connection", "keep-alive")
        }
        output.append("\r\n")
        return bodiless ? .noBody : .readBody
    }

    /// A piece of the upstream's body.
    func relayBody(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        if case .chunked = framing {
            output.append(String(bytes.count, radix: 16))
            output.append("\r\n")
            output.append(contentsOf: bytes)
            output.append("\r\n")
        } else {
            output.append(contentsOf: bytes)
        }
    }

    /// The upstream's response ended: finishes the framing and reports once it is written.
    func relayEnded(_ exchange: Exchange) {
        if case .chunked = framing { output.append("0\r\n\r\n") }
        phase = .flushing(
            Completion(
                request: exchange.request, decision: exchange.decision, status: exchange.relayedStatus ?? 502,
                failure: nil, started: exchange.started))
        flush()
    }

    /// The upstream leg failed. Before any of the response went out the handler's answer is sent; after, the
    /// client connection is cut, which is how a client learns that a relayed response broke off.
    func upstreamFailed(_ failure: UpstreamFailure, exchange: Exchange) {
        exchange.connection = nil
        if case .relaying = phase, !relayWritten {
            // Nothing of the relayed response reached the client yet: it can still have a whole answer instead.
            output.removeSubrange(relayStart...)
            exchange.relayedStatus = nil
            phase = .awaitingUpstream(exchange)
        }
        if case .awaitingUpstream = phase {
            let response = loop.shared.handler.answer(failure, request: exchange.request, upstream: exchange.upstream)
            send(
                response,
                completion: Completion(
                    request: exchange.request, decision: exchange.decision, status: response.status, failure: failure,
                    started: exchange.started))
        } else {
            report(
                exchange.request, exchange.decision, status: exchange.relayedStatus, failure: failure,
                started: exchange.started, completed: false)
            close()
        }
    }

    /// A reused upstream connection turned out closed before answering: the request goes again on a new one.
    func retry(_ exchange: Exchange) {
        exchange.retried = true
        forward(exchange, freshConnection: true)
    }

    // MARK: - Closing

    /// Closes a connection that has nothing in progress.
    private func close() {
        if case .closed = phase { return }
        releaseBody()
        phase = .closed
        loop.closeDescriptor(descriptor)
        loop.clientClosed()
    }

    /// Closes the connection whatever it is doing: the peer went away, or the proxy is stopping.
    func abort() {
        switch phase {
        case .awaitingUpstream(let exchange), .relaying(let exchange):
            exchange.connection?.abandon()
            report(
                exchange.request, exchange.decision, status: exchange.relayedStatus, failure: nil,
                started: exchange.started, completed: false)
        case .flushing(let completion):
            report(
                completion.request, completion.decision, status: completion.status, failure: completion.failure,
                started: completion.started, completed: false)
        case .reading, .lingering, .closed:
            break
        }
        close()
    }
}

extension ProxyResponse {
    /// The body as text, for log lines.
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}
