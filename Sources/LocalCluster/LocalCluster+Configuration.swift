import Foundation
import Logging

extension LocalCluster {
    /// How a local cluster starts.
    public struct Configuration: Sendable {
        /// Where the database, certificates, tokens and kubeconfig live; created when missing.
        public var stateDirectory: URL
        /// The IPv4 address to bind; loopback unless configured otherwise.
        public var host: String
        /// The port; 0 lets the kernel pick one.
        public var port: UInt16
        /// Serve plain HTTP instead of HTTPS.
        public var insecureHTTP: Bool
        /// Manifests applied at start (namespaces, quotas, RBAC, ...), or nil for none.
        public var manifestsDirectory: URL?
        /// Which local executable stands in for each image.
        public var images: ImageMap
        /// How long a stop waits between SIGTERM and SIGKILL for running containers.
        public var stopGracePeriod: Duration
        /// How many recent changes watches can resume from; an older `resourceVersion` gets 410 Expired.
        public var watchHistoryCapacity: Int
        /// Where the cluster logs.
        public var logger: Logger
        /// The clock for timestamps, deadlines and TTLs.
        public var clock: any ClusterClock

        /// A configuration; everything but the state directory has a default fit for tests.
        public init(
            stateDirectory: URL, host: String = "127.0.0.1", port: UInt16 = 0, insecureHTTP: Bool = false,
            manifestsDirectory: URL? = nil, images: ImageMap = ImageMap(), stopGracePeriod: Duration = .seconds(2),
            watchHistoryCapacity: Int = 10_000, logger: Logger = Logger(label: "local-cluster"),
            clock: any ClusterClock = SystemClock()
        ) {
            self.stateDirectory = stateDirectory
            self.host = host
            self.port = port
            self.insecureHTTP = insecureHTTP
            self.manifestsDirectory = manifestsDirectory
            self.images = images
            self.stopGracePeriod = stopGracePeriod
            self.watchHistoryCapacity = watchHistoryCapacity
            self.logger = logger
            self.clock = clock
        }
    }
}
