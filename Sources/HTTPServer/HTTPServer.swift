import CMicroHTTPD
import Foundation
import Logging
import Synchronization

/// An HTTP/1.1 server on libmicrohttpd, embeddable in any component and in tests.
///
/// The handler is `async` because the components built on this server mostly wait on something else (a
/// proxied upstream, a Kubernetes call, a job); an `async` handler lets them `await` it without blocking.
/// libmicrohttpd calls in on its own connection threads, never on Swift's cooperative pool: each request's
/// thread starts a task for the handler and blocks until it answers, so a slow handler holds a connection
/// thread, not a cooperative one.
///
/// Threading is one thread per connection (`MHD_USE_THREAD_PER_CONNECTION`). That is what makes streamed
/// bodies simple: the content reader may block its own connection's thread while it waits for the next
/// chunk of a watch, which an epoll pool would not allow without suspend/resume. The cost is a thread per
/// open connection, bounded by `Configuration.connectionLimit`. Measured on the 2-core development machine:
/// 20,000 small JSON requests from `curl --parallel --parallel-max 64` took 3.0 s (about 6,700 per second),
/// with curl itself using half the CPU; an epoll build was not measured against it.
///
/// ```swift
/// let server = try HTTPServer(configuration: .init(port: 0)) { request in
///     .text("hello \(request.path)")
/// }
/// print(server.port)
/// await server.stop()
/// ```
public final class HTTPServer: Sendable {
    /// Answers one request. Called concurrently, once per request.
    public typealias Handler = @Sendable (HTTPRequest) async -> HTTPResponse

    /// The configuration the server started with.
    public let configuration: Configuration
    /// The port the server listens on; the kernel's pick when the configuration asked for port 0.
    public let port: UInt16

    private let core: ServerCore
    /// The running daemon, or nil once `stop()` has begun. Guards against stopping twice.
    private let daemon: Mutex<DaemonHandle?>

    /// Starts listening at once; each request's handler runs in a task of its own.
    ///
    /// - Throws: `HTTPServerError` when the address is not IPv4, TLS is unavailable, or libmicrohttpd refuses
    ///   to start (most often: the port is in use).
    public init(configuration: Configuration, handler: @escaping Handler) throws(HTTPServerError) {
        // 1. Check what can be checked before touching the C library.
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = configuration.port.bigEndian
        guard inet_pton(AF_INET, configuration.host, &address.sin_addr) == 1 else {
            throw HTTPServerError(
                .invalidAddress,
                message: "host \(configuration.host) is not an IPv4 address; use a literal such as 127.0.0.1")
        }
        if configuration.tls != nil && !tierserve_mhd_supports_tls() {
            throw HTTPServerError(.tlsUnsupported, message: "libmicrohttpd here was built without TLS support")
        }

        // 2. Start the daemon. The core is retained for the daemon's whole life and released after it stops.
        let core = ServerCore(configuration: configuration, handler: handler)
        let context = Unmanaged.passRetained(core).toOpaque()
        let timeoutSeconds = max(1, Int((configuration.connectionTimeout + .milliseconds(999)).components.seconds))
        let started = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                tierserve_mhd_start_daemon(
                    socketAddress, ServerCallbacks.accessHandler, context, ServerCallbacks.requestCompleted, context,
                    UInt32(clamping: configuration.connectionLimit), UInt32(clamping: timeoutSeconds),
                    core.tlsKey, core.tlsCertificate)
            }
        }
        guard let started else {
            Unmanaged<ServerCore>.fromOpaque(context).release()
            throw HTTPServerError(
                .couldNotStart,
                message: "could not listen on \(configuration.host):\(configuration.port); "
                    + "check that the port is free and the TLS key and certificate are valid PEM")
        }

        self.configuration = configuration
        self.core = core
        self.port = tierserve_mhd_bound_port(started)
        self.daemon = Mutex(DaemonHandle(pointer: started, context: context))
        configuration.logger.info(
            "listening", ["host": configuration.host, "port": port, "tls": configuration.tls != nil])
    }

    deinit {
        // A server dropped without `stop()` still frees its daemon; in-flight requests are cut short.
        if let handle = daemon.withLock({ $0.take() }) {
            core.endStreams()
            handle.stop()
        }
    }

    /// Stops accepting connections, ends streamed responses, waits for in-flight requests to be answered (up to
    /// the configured grace period), cancels the handlers still running, then closes every connection.
    /// Calling it again does nothing.
    public func stop() async {
        guard let handle = daemon.withLock({ $0.take() }) else { return }

        // 1. No new connections; idle keep-alive connections stay open until the daemon stops.
        handle.quiesce()

        // 2. Streams never end by themselves; end them so their requests can complete.
        core.endStreams()

        // 3. Wait for requests between their first byte and their last response byte.
        let deadline = ContinuousClock.now + configuration.shutdownGracePeriod
        while core.inFlightCount > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
            core.endStreams()
        }

        // 4. Past the grace period, ask the handlers still running to give up; `MHD_stop_daemon` joins their
        // threads, so a handler that ignores cancellation still delays the return.
        core.cancelHandlers()

        // 5. Joining the daemon's threads blocks, so do it on a thread of its own rather than the cooperative pool.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                handle.stop()
                continuation.resume()
            }
        }
        configuration.logger.info("stopped", ["host": configuration.host, "port": port])
    }
}

/// The daemon pointer and the retained context the C callbacks receive.
///
/// `@unchecked Sendable`: the pointer is only used by `quiesce()` and `stop()`, and `HTTPServer` hands the
/// handle out of its mutex exactly once, so no two threads use it at the same time.
private struct DaemonHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let context: UnsafeMutableRawPointer

    func quiesce() {
        let listeningSocket = MHD_quiesce_daemon(pointer)
        if listeningSocket >= 0 {
            close(listeningSocket)
        }
    }

    /// Stops the daemon, joining its threads, then releases the context it held.
    func stop() {
        MHD_stop_daemon(pointer)
        Unmanaged<ServerCore>.fromOpaque(context).release()
    }
}
