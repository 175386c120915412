import CEventPoll
import Foundation
import HTTPTypes

/// One keep-alive connection to an upstream: carries one exchange at a time, and between exchanges waits in its
/// loop's idle pool.
final class UpstreamConnection: EventSource {
    private enum Phase {
        /// The non-blocking connect is under way.
        case connecting
        /// Connected, carrying `exchange`.
        case active
        /// Connected, in the pool, carrying nothing.
        case idle
        case closed
    }

    let descriptor: Int32
    let address: UpstreamAddress
    // unowned(unsafe): the loop holds every connection it serves (registrations, pool) and lives until its thread
    // ends, after the last of them; skipping the unowned reference count matters on this path.
    private unowned(unsafe) let loop: EventLoop
    private let parser = MessageParser(.response)
    private var phase: Phase
    private var exchange: Exchange?
    private var client: ClientConnection?
    /// True when this exchange was given a connection from the pool rather than a new one.
    private var reused = false
    private var receivedResponseBytes = false
    private var output: [UInt8] = []
    private var outputSent = 0
    private var inputReady = false
    private var peerClosed = false
    private var readPaused = false
    /// True once sending the request failed; what the upstream answered, if anything, is still relayed.
    private var requestCut = false
    private var cutReason: String?
    private var connectDeadline: ContinuousClock.Instant?
    private var idleDeadline: ContinuousClock.Instant?

    private init(descriptor: Int32, address: UpstreamAddress, loop: EventLoop, connected: Bool) {
        self.descriptor = descriptor
        self.address = address
        self.loop = loop
        self.phase = connected ? .active : .connecting
        parser.onHead = { [unowned self] in responseHead() }
        parser.onBody = { [unowned self] bytes in
            client?.relayBody(bytes)
            return true
        }
    }

    /// Opens a connection to `address`, registered with `loop`.
    static func open(to address: UpstreamAddress, loop: EventLoop) -> Result<UpstreamConnection, UpstreamFailure> {
        guard let socketAddress = Socket.address(host: address.host, port: address.port) else {
            return .failure(UpstreamFailure(.connectFailed, detail: "\(address.host) is not an IPv4 address"))
        }
        let connection: UpstreamConnection
        switch Socket.connect(to: socketAddress) {
        case .connected(let descriptor):
            connection = UpstreamConnection(descriptor: descriptor, address: address, loop: loop, connected: true)
        case .inProgress(let descriptor):
            connection = UpstreamConnection(descriptor: descriptor, address: address, loop: loop, connected: false)
        case .failed(let reason):
            return .failure(UpstreamFailure(.connectFailed, detail: "\(address.host):\(address.port): \(reason)"))
        }
        loop.register(connection.descriptor, for: connection)
        return .success(connection)
    }

    // MARK: - An exchange

    /// Sends `exchange`'s request, on behalf of `client`.
    func begin(_ exchange: Exchange, for client: ClientConnection, reused: Bool) {
        self.exchange = exchange
        self.client = client
        self.reused = reused
        exchange.connection = self
        receivedResponseBytes = false
        idleDeadline = nil
        writeRequest(exchange.upstream)
        if case .connecting = phase {
            connectDeadline = loop.now + exchange.upstream.connectTimeout
            return
        }
        phase = .active
        flush()
        // A pooled connection may have been readable all along (the upstream closed it): look now.
        if reused { readResponse() }
    }

    private func writeRequest(_ request: UpstreamRequest) {
        output.append(request.method.rawValue)
        output.append(" ")
        output.append(request.target)
        output.append(" HTTP/1.1\r\n")
        // Fields the client's Connection named were dropped before the handler saw the request; what is left to
        // drop here is framing and hop-by-hop fields a handler may have set.
        var hasHost = false
        for field in request.headers where !HopByHop.contains(field.name) {
            if !hasHost && HTTPHeaders.sameName(field.name, "host") { hasHost = true }
            output.appendField(field.name, field.value)
        }
        if !hasHost { output.appendField("host", "\(request.host):\(request.port)") }
        if !request.body.isEmpty || [.post, .put, .patch].contains(request.method) {
            output.appendField("content-length", String(request.body.count))
        }
        output.append("\r\n")
        output.append(contentsOf: request.body)
    }

    /// The client has written what was relayed so far; reading the upstream may go on.
    func clientDrained() {
        guard readPaused else { return }
        readPaused = false
        readResponse()
    }

    /// Drops the exchange (its client went away, or it timed out) and the connection with it: part of a response
    /// may still be on the way, so it cannot be reused.
    func abandon() {
        exchange?.connection = nil
        exchange = nil
        client = nil
        close()
    }

    func close() {
        if case .closed = phase { return }
        if case .idle = phase { loop.forgetIdle(self) }
        phase = .closed
        loop.closeDescriptor(descriptor)
    }

    // MARK: - Events

    func handle(events: UInt32) {
        if events & (EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 { peerClosed = true }
        switch phase {
        case .closed:
            return
        case .idle:
            // An idle connection has nothing to say: readable means closed by the upstream, or broken.
            if events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
                close()
            }
            return
        case .connecting:
            if let reason = Socket.pendingError(descriptor) {
                fail(UpstreamFailure(.connectFailed, detail: "\(address.host):\(address.port): \(reason)"))
                return
            }
            guard events & EPOLLOUT.rawValue != 0 else { return }
            phase = .active
            connectDeadline = nil
            flush()
        case .active:
            if events & EPOLLOUT.rawValue != 0 { flush() }
        }
        guard case .active = phase else { return }
        if events & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
            inputReady = true
            readResponse()
        }
    }

    func checkDeadlines(now: ContinuousClock.Instant) {
        switch phase {
        case .connecting:
            guard let limit = connectDeadline, now >= limit, let exchange else { return }
            fail(
                UpstreamFailure(
                    .connectTimedOut,
                    detail:
                        "no connection to \(address.host):\(address.port) within \(exchange.upstream.connectTimeout)"))
        case .idle:
            if let limit = idleDeadline, now >= limit { close() }
        case .active, .closed:
            break
        }
    }

    // MARK: - Writing and reading

    private func flush() {
        guard !requestCut else { return }
        switch Socket.drain(descriptor, output, sent: &outputSent) {
        case .done:
            break
        case .blocked:
            return
        case .failed(let reason):
            // An upstream may refuse a request before reading all of it (a 413 for a body over its limit) and
            // close: its answer may already be waiting, so it is read before the exchange is given up. With no
            // answer the read side reports the failure.
            requestCut = true
            cutReason = reason
            inputReady = true
            readResponse()
            return
        }
        output.removeAll(keepingCapacity: output.capacity <= 1 << 20)
        outputSent = 0
    }

    private func readResponse() {
        while case .active = phase, inputReady, !readPaused {
            if let client, client.backlog > ClientConnection.relayBacklogLimit {
                // The client reads slower than the upstream writes: leave the rest in the kernel until it catches up.
                readPaused = true
                break
            }
            switch Socket.read(descriptor, into: loop.readBuffer) {
            case .bytes(let count):
                if count < loop.readBuffer.count { inputReady = peerClosed }
                receivedResponseBytes = true
                consume(UnsafeRawBufferPointer(rebasing: loop.readBuffer[..<count]))
            case .wouldBlock:
                inputReady = false
            case .endOfStream:
                if case .messageComplete = parser.parseEndOfStream(), exchange != nil {
                    complete(reusable: false)
                } else {
                    fail(
                        UpstreamFailure(.reset, detail: "the upstream closed the connection before the response ended"))
                }
            case .failed(let reason):
                fail(UpstreamFailure(.reset, detail: cutReason.map { "sending the request failed: \($0)" } ?? reason))
            }
        }
        client?.flush()
    }

    private func consume(_ bytes: UnsafeRawBufferPointer) {
        var remaining = bytes
        while exchange != nil {
            switch parser.parse(remaining) {
            case .needsMore:
                return
            case .messageComplete(let consumed):
                if parser.statusCode < 200 {
                    // An interim response (100 Continue and the like): the final one follows.
                    parser.resume()
                    remaining = UnsafeRawBufferPointer(rebasing: remaining[consumed...])
                    continue
                }
                complete(reusable: consumed == remaining.count)
                return
            case .failed(let failure):
                let detail =
                    switch failure {
                    case .headTooLarge: "the response head is larger than 80 KiB"
                    case .upgrade: "the upstream switched protocols"
                    case .refused: "the response was refused"
                    case .invalidFieldName(let name): "the response has a malformed field name \"\(name)\""
                    case .invalid(let reason): reason
                    }
                fail(UpstreamFailure(.invalidResponse, detail: detail))
                return
            }
        }
    }

    private func responseHead() -> MessageParser.HeadVerdict {
        let status = parser.statusCode
        guard status >= 200 else { return status == 101 ? .refuse : .readBody }
        guard let client, let exchange else { return .refuse }
        return client.relayHead(from: parser, exchange: exchange)
    }

    /// The response ended: the connection goes back to the pool if the upstream keeps it open.
    private func complete(reusable: Bool) {
        guard let exchange, let client else { return }
        // A connection whose request was not wholly sent is out of step with its upstream.
        let keep = reusable && parser.keepsAlive && !peerClosed && !requestCut && outputSent == output.count
        parser.resume()
        self.exchange = nil
        self.client = nil
        exchange.connection = nil
        if keep {
            phase = .idle
            idleDeadline = loop.now + loop.shared.configuration.upstreamIdleTimeout
            loop.keepIdle(self)
        } else {
            close()
        }
        client.relayEnded(exchange)
    }

    /// The exchange failed: the connection closes, and the client either gets the request sent again on a fresh
    /// connection (a pooled one that had been closed under it) or the failure.
    private func fail(_ failure: UpstreamFailure) {
        guard let exchange, let client else {
            close()
            return
        }
        self.exchange = nil
        self.client = nil
        exchange.connection = nil
        close()
        if reused && !receivedResponseBytes && exchange.isRetriable && failure.kind == .reset {
            client.retry(exchange)
        } else {
            client.upstreamFailed(failure, exchange: exchange)
        }
    }
}
