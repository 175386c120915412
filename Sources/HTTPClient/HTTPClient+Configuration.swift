extension HTTPClient {
    /// Defaults that apply to every call of one client.
    public struct Configuration: Sendable {
        /// The longest a call waits for a connection (and TLS handshake) before failing with `.timedOut`.
        public var connectTimeout: Duration
        /// The longest a whole `send` may take, unless the request sets its own.
        public var timeout: Duration
        /// The longest a `stream` may stay open, unless the request sets its own; long, for watches.
        public var streamTimeout: Duration
        /// Trust and client identity for `https` URLs.
        public var tls: TLS
        /// How many idle libcurl handles (and their open connections) the client keeps for reuse.
        public var maxIdleHandles: Int

        /// A configuration; the defaults suit calls between services on one cluster.
        public init(
            connectTimeout: Duration = .seconds(5), timeout: Duration = .seconds(30),
            streamTimeout: Duration = .seconds(3600), tls: TLS = TLS(), maxIdleHandles: Int = 16
        ) {
            self.connectTimeout = connectTimeout
            self.timeout = timeout
            self.streamTimeout = streamTimeout
            self.tls = tls
            self.maxIdleHandles = maxIdleHandles
        }
    }

    /// Which servers to trust and which identity to present.
    public struct TLS: Sendable {
        /// Where trusted CA certificates come from.
        public enum TrustedCertificates: Sendable {
            /// The system's bundle.
            case system
            /// A PEM file at this path, such as a service account's `ca.crt`.
            case file(path: String)
            /// PEM bytes held in memory.
            case pem([UInt8])
        }

        /// The CAs a server certificate must chain to.
        public var trustedCertificates: TrustedCertificates
        /// A client certificate (PEM), presented when the server asks.
        public var clientCertificatePEM: [UInt8]?
        /// The client certificate's private key (PEM).
        public var clientKeyPEM: [UInt8]?
        /// Whether to check the server's certificate and host name; turn off only in tests.
        public var verifiesPeer: Bool

        /// TLS settings; the defaults trust the system bundle and present no client certificate.
        public init(
            trustedCertificates: TrustedCertificates = .system, clientCertificatePEM: [UInt8]? = nil,
            clientKeyPEM: [UInt8]? = nil, verifiesPeer: Bool = true
        ) {
            self.trustedCertificates = trustedCertificates
            self.clientCertificatePEM = clientCertificatePEM
            self.clientKeyPEM = clientKeyPEM
            self.verifiesPeer = verifiesPeer
        }
    }
}
