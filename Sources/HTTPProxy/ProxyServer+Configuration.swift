import Foundation
import Logging

extension ProxyServer {
    /// How a proxy server listens and what it tolerates.
    public struct Configuration: Sendable {
        /// The IPv4 address to listen on; loopback unless told otherwise.
        public var host: String
        /// The port; 0 lets the kernel pick one (see `ProxyServer.port`).
        public var port: UInt16
        /// Event-loop threads, each serving its share of the connections; one per CPU by default.
        public var eventLoops: Int
        /// How long a client connection may sit idle, or stall mid-request, before it is closed.
        public var idleTimeout: Duration
        /// The largest request body accepted; larger ones are answered 413.
        public var maxBodySize: Int
        /// The largest request head (request line and header fields) accepted, 60 KiB as Envoy's default;
        /// larger ones are answered 431.
        public var maxHeadSize: Int
        /// The most header fields a request may have, 100 as Envoy's default; more are answered 431.
        public var maxHeaderCount: Int
        /// Request bodies held at once by all connections together (each is held whole until its response ends);
        /// a body that would pass it is answered 503.
        public var bufferedBodyBudget: Int
        /// Client connections open at once; the ones past it are closed as soon as they are accepted.
        public var connectionLimit: Int
        /// Idle keep-alive connections kept per upstream address on each event loop.
        public var idleUpstreamConnections: Int
        /// How long an idle upstream connection is kept before it is closed; shorter than the upstreams' own idle
        /// timeouts, so that the proxy, not the upstream, closes it.
        public var upstreamIdleTimeout: Duration
        /// How long `stop()` waits for requests in progress before it closes their connections.
        public var shutdownGracePeriod: Duration
        /// Where the proxy's own lines go (start, stop, refused connections).
        public var logger: Logger

        /// A configuration; every limit has a default.
        public init(
            host: String = "127.0.0.1", port: UInt16 = 0,
            eventLoops: Int = ProcessInfo.processInfo.activeProcessorCount,
            idleTimeout: Duration = .seconds(15), maxBodySize: Int = 16 << 20, maxHeadSize: Int = 60 << 10,
            maxHeaderCount: Int = 100,
            bufferedBodyBudget: Int = 256 << 20,
            connectionLimit: Int = 4096,
            idleUpstreamConnections: Int = 128, upstreamIdleTimeout: Duration = .seconds(10),
            shutdownGracePeriod: Duration = .seconds(5), logger: Logger = Logger(label: "proxy")
        ) {
            self.host = host
            self.port = port
            self.eventLoops = max(1, eventLoops)
            self.idleTimeout = idleTimeout
            self.maxBodySize = maxBodySize
            self.maxHeadSize = maxHeadSize
            self.maxHeaderCount = maxHeaderCount
            self.bufferedBodyBudget = bufferedBodyBudget
            self.connectionLimit = connectionLimit
            self.idleUpstreamConnections = idleUpstreamConnections
            self.upstreamIdleTimeout = upstreamIdleTimeout
            self.shutdownGracePeriod = shutdownGracePeriod
            self.logger = logger
        }
    }
}
