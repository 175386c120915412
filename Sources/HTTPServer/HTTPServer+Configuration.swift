import Logging

extension HTTPServer {
    /// Where and how a server listens.
    public struct Configuration: Sendable {
        /// A certificate chain and its private key, both PEM.
        public struct TLS: Sendable {
            /// The server certificate, optionally followed by intermediates, PEM-encoded.
            public var certificatePEM: String
            /// The private key for the certificate, PEM-encoded and unencrypted.
            public var privateKeyPEM: String

            /// TLS material from PEM strings.
            public init(certificatePEM: String, privateKeyPEM: String) {
                self.certificatePEM = certificatePEM
                self.privateKeyPEM = privateKeyPEM
            }
        }

        /// The IPv4 address to bind. Loopback unless a caller asks for more; `0.0.0.0` only when given.
        public var host: String
        /// The port to bind; 0 lets the kernel pick one, which `HTTPServer.port` then reports.
        public var port: UInt16
        /// TLS material, or nil for plain HTTP.
        public var tls: TLS?
        /// The most connections served at once; each holds one thread. Further connections are refused.
        public var connectionLimit: Int
        /// How long a connection may stay idle before the server closes it. libmicrohttpd counts whole seconds,
        /// so this rounds up to at least one second.
        public var connectionTimeout: Duration
        /// The largest request body accepted; a larger one is answered 413 without reading the rest.
        public var maxBodySize: Int
        /// How long `stop()` waits for in-flight requests before closing their connections anyway.
        public var shutdownGracePeriod: Duration
        /// Where the server logs its lifecycle (info) and each request (debug).
        public var logger: Logger

        /// A configuration; every value has a default fit for a loopback test server.
        public init(
            host: String = "127.0.0.1", port: UInt16 = 0, tls: TLS? = nil, connectionLimit: Int = 256,
            connectionTimeout: Duration = .seconds(60), maxBodySize: Int = 8 << 20,
            shutdownGracePeriod: Duration = .seconds(10), logger: Logger = Logger(label: "http-server")
        ) {
            self.host = host
            self.port = port
            self.tls = tls
            self.connectionLimit = connectionLimit
            self.connectionTimeout = connectionTimeout
            self.maxBodySize = maxBodySize
            self.shutdownGracePeriod = shutdownGracePeriod
            self.logger = logger
        }
    }
}
