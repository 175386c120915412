import Foundation
import Logging
import Synchronization

/// An HTTP/1.1 reverse proxy on event loops: a few threads, each with an epoll set, serve every connection.
///
/// For each request whose head and body have arrived, the `ProxyHandler` decides: answer it directly, or forward
/// it to an upstream whose response is relayed back as it arrives. Upstream connections are kept alive and
/// reused per loop; requests and responses are parsed by http-parser. A loop never blocks, so a slow upstream
/// holds one connection's state, not a thread.
///
/// Unlike `HTTPServer` (a thread per connection, simple to stream from), this is built for the gateway's hot
/// path, where the cost per request is the product.
///
/// ```swift
/// let proxy = try ProxyServer(configuration: .init(port: 8080), handler: MyRouter())
/// print(proxy.port)
/// await proxy.stop()
/// ```
public final class ProxyServer: Sendable {
    /// The configuration the proxy started with.
    public let configuration: Configuration
    /// The port the proxy listens on; the kernel's pick when the configuration asked for port 0.
    public let port: UInt16

    private let shared: ProxyShared
    private let loops: [EventLoop]
    /// Set by the first `stop()`; later calls return at once.
    private let stopped = Atomic<Bool>(false)

    /// Starts listening and serving at once.
    ///
    /// - Throws: `ProxyServerError` when the host is not an IPv4 literal or the port cannot be bound.
    public init(configuration: Configuration, handler: any ProxyHandler) throws(ProxyServerError) {
        guard let address = Socket.address(host: configuration.host, port: Int(configuration.port)) else {
            throw ProxyServerError(
                .invalidAddress,
                message: "host \(configuration.host) is not an IPv4 address; use a literal such as 127.0.0.1")
        }
        let listener = try Self.listen(on: address, configuration: configuration)
        self.configuration = configuration
        self.port = Self.boundPort(listener)
        self.shared = ProxyShared(configuration: configuration, handler: handler, listener: listener)
        var loops: [EventLoop] = []
        do {
            for index in 0..<configuration.eventLoops {
                loops.append(try EventLoop(index: index, shared: shared))
            }
        } catch {
            close(listener)
            throw error
        }
        self.loops = loops
        for loop in loops { loop.start() }
        configuration.logger.info(
            "listening", ["host": configuration.host, "port": port, "event_loops": configuration.eventLoops])
    }

    deinit {
        // A proxy dropped without `stop()` still ends its threads; requests in flight are cut short.
        if !stopped.exchange(true, ordering: .acquiringAndReleasing) {
            for loop in loops { loop.requestStop() }
        }
    }

    /// Stops accepting connections, lets requests in progress finish (up to the grace period), then closes every
    /// connection. Calling it again does nothing.
    public func stop() async {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // New connections are refused from now on; the socket itself closes once no loop can be using it.
        shutdown(shared.listener, Int32(SHUT_RD))
        for loop in loops { loop.requestStop() }
        // Waiting blocks, so it happens on a thread of its own rather than on the cooperative pool.
        let loops = self.loops
        let listener = shared.listener
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                for loop in loops { loop.waitUntilDone() }
                close(listener)
                continuation.resume()
            }
        }
        configuration.logger.info("stopped", ["host": configuration.host, "port": port])
    }

    private static func listen(on address: sockaddr_in, configuration: Configuration) throws(ProxyServerError) -> Int32
    {
        let descriptor = socket(
            AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else {
            throw ProxyServerError(.couldNotStart, message: "could not open a socket: \(SystemError.text())")
        }
        var on: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var bound = address
        let result = withUnsafePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0, Foundation.listen(descriptor, 1024) == 0 else {
            let reason = SystemError.text()
            close(descriptor)
            throw ProxyServerError(
                .couldNotStart,
                message: "could not listen on \(configuration.host):\(configuration.port): \(reason); "
                    + "check that the port is free")
        }
        return descriptor
    }

    private static func boundPort(_ descriptor: Int32) -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }
}

/// What every event loop of one proxy shares: immutable settings, the handler, the listening socket and the
/// count of open client connections.
final class ProxyShared: Sendable {
    let configuration: ProxyServer.Configuration
    let handler: any ProxyHandler
    let listener: Int32
    let openConnections = Atomic<Int>(0)
    /// Request body bytes held by all connections, against `bufferedBodyBudget`.
    let bufferedBodyBytes = Atomic<Int>(0)
    var logger: Logger { configuration.logger }

    init(configuration: ProxyServer.Configuration, handler: any ProxyHandler, listener: Int32) {
        self.configuration = configuration
        self.handler = handler
        self.listener = listener
    }
}
