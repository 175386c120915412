import CEventPoll
import Foundation
import Logging
import Synchronization

/// Something an event loop watches: a connection, the listening socket, or the loop's own wake-up counter.
protocol EventSource: AnyObject {
    /// Called on the loop's thread with the epoll events that fired.
    func handle(events: UInt32)
    /// Called on the loop's thread every timer tick; closes whatever has outlived its deadline.
    func checkDeadlines(now: ContinuousClock.Instant)
}

/// One thread with one epoll set, serving its share of the proxy's connections.
///
/// Every socket is registered once, edge-triggered, for input and output, so a request costs no `epoll_ctl`
/// calls; connections read until the kernel has no more and write until it takes no more. Each registration
/// carries a generation number next to the descriptor, so an event for a descriptor closed and reused within
/// the same `epoll_wait` batch is dropped rather than delivered to the newcomer.
///
/// `@unchecked Sendable`: apart from `wakeCounter` (an eventfd, written from any thread) and `stopRequested`
/// (an atomic), all state is touched only on the loop's own thread once `run()` starts.
final class EventLoop: @unchecked Sendable {
    let index: Int
    let shared: ProxyShared
    /// Idle keep-alive connections to upstreams, by address, most recently used last.
    var idleUpstreams: [UpstreamAddress: [UpstreamConnection]] = [:]
    /// One buffer for every read on this loop; bytes are parsed straight out of it.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
    /// True once `stop()` asked the loop to drain.
    private(set) var draining = false
    /// The time when the current batch of events arrived: close enough for deadlines, which are checked every
    /// tick anyway, and one clock read per batch instead of several per request.
    private(set) var now = ContinuousClock.now

    private let epoll: Int32
    private let wakeCounter: Int32
    private let stopRequested = Atomic<Bool>(false)
    private var sources: [Registration?] = []
    private var generation: UInt32 = 0
    private var clientCount = 0
    private var acceptPausedUntil: ContinuousClock.Instant?
    private var drainDeadline: ContinuousClock.Instant?
    private let done = DispatchSemaphore(value: 0)

    private struct Registration {
        let generation: UInt32
        let source: any EventSource
    }

    /// Ticks at which deadlines are checked: coarse, because the timeouts it serves are tenths of seconds or more.
    private static let tick = 50

    init(index: Int, shared: ProxyShared) throws(ProxyServerError) {
        self.index = index
        self.shared = shared
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeCounter = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard epoll >= 0, wakeCounter >= 0 else {
            throw ProxyServerError(.couldNotStart, message: "could not create an event loop: \(SystemError.text())")
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = UInt64(UInt32(bitPattern: wakeCounter))
        epoll_ctl(epoll, EPOLL_CTL_ADD, wakeCounter, &event)
    }

    deinit {
        readBuffer.deallocate()
        close(epoll)
        close(wakeCounter)
    }

    // MARK: - Registration

    /// Watches `descriptor` for `source`, edge-triggered for input, output and the peer's close.
    func register(_ descriptor: Int32, for source: any EventSource) {
        generation &+= 1
        let slot = Int(descriptor)
        if slot >= sources.count { sources += Array(repeating: nil, count: slot - sources.count + 64) }
        sources[slot] = Registration(generation: generation, source: source)
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
        event.data.u64 = UInt64(generation) << 32 | UInt64(UInt32(bitPattern: descriptor))
        epoll_ctl(epoll, EPOLL_CTL_ADD, descriptor, &event)
    }

    /// Stops watching `descriptor` and closes it.
    func closeDescriptor(_ descriptor: Int32) {
        if Int(descriptor) < sources.count { sources[Int(descriptor)] = nil }
        // Closing removes the descriptor from the epoll set.
        close(descriptor)
    }

    func clientOpened() { clientCount += 1 }

    func clientClosed() {
        clientCount -= 1
        shared.openConnections.subtract(1, ordering: .relaxed)
    }

    // MARK: - Running

    /// Starts the loop's thread.
    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "proxy-loop-\(index)"
        thread.start()
    }

    /// Asks the loop to stop accepting, finish the requests it has, and exit; `waitUntilDone` waits for that.
    func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        var one: UInt64 = 1
        _ = write(wakeCounter, &one, 8)
    }

    func waitUntilDone() {
        done.wait()
    }

    private func run() {
        listen()
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: 512)
        defer { events.deallocate() }
        var nextTick = ContinuousClock.now + .milliseconds(Self.tick)
        while true {
            let count = epoll_wait(epoll, events, 512, Int32(Self.tick))
            if count < 0 && errno != EINTR {
                shared.logger.error("event loop failed", ["loop": index, "reason": SystemError.text()])
                break
            }
            now = ContinuousClock.now
            for position in 0..<max(0, Int(count)) {
                dispatch(events[position])
            }
            if now >= nextTick {
                nextTick = now + .milliseconds(Self.tick)
                checkDeadlines(now: now)
            }
            if draining && (clientCount == 0 || now >= drainDeadline ?? now) { break }
        }
        closeEverything()
        done.signal()
    }

    private func dispatch(_ event: epoll_event) {
        let descriptor = Int32(bitPattern: UInt32(truncatingIfNeeded: event.data.u64))
        if descriptor == wakeCounter {
            var count: UInt64 = 0
            _ = read(wakeCounter, &count, 8)
            if stopRequested.load(ordering: .acquiring) && !draining { beginDraining() }
            return
        }
        if descriptor == shared.listener {
            acceptClients()
            return
        }
        let slot = Int(descriptor)
        guard slot < sources.count, let registration = sources[slot],
            registration.generation == UInt32(truncatingIfNeeded: event.data.u64 >> 32)
        else { return }
        registration.source.handle(events: event.events)
    }

    private func checkDeadlines(now: ContinuousClock.Instant) {
        if let paused = acceptPausedUntil, now >= paused, !draining {
            acceptPausedUntil = nil
            listen()
        }
        for registration in sources {
            registration?.source.checkDeadlines(now: now)
        }
    }

    // MARK: - Accepting

    private func listen() {
        var event = epoll_event()
        // Exclusive: a new connection wakes one loop, not all of them.
        event.events = EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue
        event.data.u64 = UInt64(UInt32(bitPattern: shared.listener))
        epoll_ctl(epoll, EPOLL_CTL_ADD, shared.listener, &event)
    }

    private func stopListening() {
        var event = epoll_event()
        epoll_ctl(epoll, EPOLL_CTL_DEL, shared.listener, &event)
    }

    private func acceptClients() {
        for _ in 0..<64 {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let descriptor = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept(shared.listener, $0, &length)
                }
            }
            guard descriptor >= 0 else {
                switch errno {
                case EAGAIN, EINTR, ECONNABORTED:
                    return
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors: stop accepting for a tick instead of spinning on the ready listener.
                    shared.logger.warning("accept paused", ["loop": index, "reason": SystemError.text()])
                    stopListening()
                    acceptPausedUntil = now + .milliseconds(100)
                    return
                default:
                    return
                }
            }
            // accept4 is a GNU extension that Swift does not import; two fcntl calls do the same.
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            let open = shared.openConnections.add(1, ordering: .relaxed).newValue
            guard open <= shared.configuration.connectionLimit else {
                shared.openConnections.subtract(1, ordering: .relaxed)
                close(descriptor)
                shared.logger.warning("connection refused", ["reason": "connection limit", "limit": open - 1])
                continue
            }
            Socket.setNoDelay(descriptor)
            let client = ClientConnection(descriptor: descriptor, remote: Socket.describe(address), loop: self)
            clientOpened()
            register(descriptor, for: client)
        }
    }

    // MARK: - Stopping

    private func beginDraining() {
        draining = true
        drainDeadline = now + shared.configuration.shutdownGracePeriod
        stopListening()
        for registration in sources {
            (registration?.source as? ClientConnection)?.closeIfIdle()
        }
    }

    private func closeEverything() {
        for registration in sources {
            switch registration?.source {
            case let client as ClientConnection: client.abort()
            case let upstream as UpstreamConnection: upstream.close()
            default: break
            }
        }
        idleUpstreams.removeAll()
    }

    // MARK: - Upstream connections

    /// An idle connection to `address` from the pool, or nil.
    func takeIdleUpstream(to address: UpstreamAddress) -> UpstreamConnection? {
        idleUpstreams[address]?.popLast()
    }

    /// Puts an upstream connection whose exchange ended cleanly back in the pool, or closes it if the pool is full.
    func keepIdle(_ connection: UpstreamConnection) {
        guard idleUpstreams[connection.address, default: []].count < shared.configuration.idleUpstreamConnections,
            !draining
        else {
            connection.close()
            return
        }
        idleUpstreams[connection.address, default: []].append(connection)
    }

    /// Forgets an idle connection that closed.
    func forgetIdle(_ connection: UpstreamConnection) {
        idleUpstreams[connection.address]?.removeAll { $0 === connection }
    }
}
