import Foundation
import HTTPServer
import Kubernetes
import Logging
import SQLite

/// An embedded stand-in for a Kubernetes cluster: an API server for the subset of the REST API tierserve
/// uses (with RBAC and ResourceQuota enforced as the real server enforces them), a Job controller, and one
/// node that runs containers as local processes, all persisted in SQLite under the state directory.
///
/// ```swift
/// let cluster = try await LocalCluster.start(.init(stateDirectory: directory, manifestsDirectory: manifests))
/// print(cluster.serverURL, cluster.kubeconfigPath)
/// await cluster.stop()
/// ```
public final class LocalCluster: Sendable {
    /// The configuration the cluster started with.
    public let configuration: Configuration
    /// `https://127.0.0.1:PORT` (or `http://` with `insecureHTTP`).
    public let serverURL: String
    /// The bound port.
    public let port: UInt16
    /// The admin token (`system:admin`, group `system:masters`).
    public let adminToken: String

    let store: ObjectStore
    let registry: Registry
    let credentials: Credentials
    private let server: HTTPServer
    private let controller: JobController
    private let node: LocalNode
    /// The open, locked `<state>/lock`; closed (and so unlocked) by `stop()`.
    private let stateLock: Int32

    /// Opens (or creates) the state, applies the manifests, recovers from the last run, and starts serving.
    ///
    /// - Throws: `LocalClusterError` naming what could not be set up.
    public static func start(_ configuration: Configuration) async throws(LocalClusterError) -> LocalCluster {
        try LocalCluster(configuration: configuration)
    }

    private init(configuration: Configuration) throws(LocalClusterError) {
        let logger = configuration.logger
        let directory = configuration.stateDirectory

        // 1. State directory, database, certificates, tokens.
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw LocalClusterError(
                .stateDirectory, message: "cannot create the state directory \(directory.path): \(error)")
        }
        // One cluster per state directory: a second would fail the first one's running pods as if it had
        // restarted. The lock lasts as long as this process.
        let lockPath = directory.appendingPathComponent("lock").path
        let lock = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard lock >= 0, flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            throw LocalClusterError(
                .stateDirectory,
                message:
                    "the state directory \(directory.path) is in use by another local cluster (\(lockPath) is locked)")
        }
        let store: ObjectStore
        do {
            store = try ObjectStore(
                path: directory.appendingPathComponent("cluster.sqlite").path, clock: configuration.clock,
                historyCapacity: configuration.watchHistoryCapacity)
        } catch {
            throw LocalClusterError(
                .database, message: "cannot open the cluster database in \(directory.path): \(error)")
        }
        let tls = try TLSMaterial.loadOrCreate(in: directory, host: configuration.host)
        let credentials: Credentials
        do {
            credentials = try Credentials(
                stateDirectory: directory, database: store.database, caCertificatePEM: tls.caCertificatePEM)
        } catch {
            throw LocalClusterError(.database, message: "cannot read the cluster's tokens: \(error)")
        }
        let registry = Registry(store: store, logger: logger) { namespace, name in
            do {
                try credentials.ensureServiceAccountToken(namespace: namespace, name: name)
            } catch {
                logger.error(
                    "token not written", ["namespace": namespace, "serviceaccount": name, "error": "\(error)"])
            }
        }

        // 2. The namespaces every cluster has, the manifests, then the tokens of every service account (including those from earlier runs).
        for namespace in ["default", "kube-system", "kube-public"] {
            let body = JSONValue.object([
                "apiVersion": "v1", "kind": "Namespace", "metadata": .object(["name": .string(namespace)]),
            ])
            do {
                _ = try registry.create(.namespaces, namespace: "", body: body)
            } catch  where error.code == 409 {
                // Made by an earlier run.
            } catch {
                throw LocalClusterError(
                    .database, message: "cannot create namespace \(namespace): \(error.message ?? "")")
            }
        }
        if let manifests = configuration.manifestsDirectory {
            let outcome = try ManifestLoader.apply(try ManifestLoader.documents(in: manifests), registry: registry)
            logger.info(
                "manifests applied",
                [
                    "directory": manifests.path, "created": outcome.created.count, "updated": outcome.updated.count,
                    "unchanged": outcome.unchanged.count,
                ])
            if !outcome.skipped.isEmpty {
                logger.warning(
                    "manifest kinds not emulated, skipped",
                    ["count": outcome.skipped.count, "objects": outcome.skipped.joined(separator: ",")])
            }
        }
        let adminToken: String
        do {
            adminToken = try credentials.adminToken()
            for account in try registry.list(.serviceAccounts, namespace: nil).items {
                try credentials.ensureServiceAccountToken(namespace: account.namespace, name: account.name)
            }
        } catch {
            throw LocalClusterError(.stateDirectory, message: "cannot write tokens under \(directory.path): \(error)")
        }

        // 3. The node recovers from the last run before anything starts.
        let logs = LogStore(database: store.database)
        let node = LocalNode(
            registry: registry, logs: logs, images: configuration.images, logger: logger.with("component", "node"),
            stopGracePeriod: configuration.stopGracePeriod)
        do {
            try node.recoverAfterRestart()
        } catch {
            throw LocalClusterError(.database, message: "cannot recover the pods of the last run: \(error)")
        }

        // 4. Serve.
        let api = APIServer(
            registry: registry, credentials: credentials, logs: logs, logger: logger.with("component", "api"))
        let serverTLS =
            configuration.insecureHTTP
            ? nil
            : HTTPServer.Configuration.TLS(certificatePEM: tls.serverCertificatePEM, privateKeyPEM: tls.serverKeyPEM)
        let server: HTTPServer
        do {
            var serverLogger = logger
            serverLogger.level = max(logger.level, .info)
            server = try HTTPServer(
                configuration: .init(
                    host: configuration.host, port: configuration.port, tls: serverTLS, connectionLimit: 512,
                    connectionTimeout: .seconds(600), shutdownGracePeriod: .seconds(2), logger: serverLogger)
            ) { request in
                await api.handle(request)
            }
        } catch {
            throw LocalClusterError(.server, message: error.message)
        }
        let scheme = configuration.insecureHTTP ? "http" : "https"
        let serverURL = "\(scheme)://\(configuration.host):\(server.port)"
        api.serverAddress.withLock { $0 = "\(configuration.host):\(server.port)" }
        node.apiAddress.withLock { $0 = (configuration.host, server.port) }
        do {
            try credentials.writeKubeconfig(server: serverURL, insecure: configuration.insecureHTTP)
        } catch {
            throw LocalClusterError(.stateDirectory, message: "cannot write the kubeconfig: \(error)")
        }

        // 5. Controllers.
        let controller = JobController(
            registry: registry, clock: configuration.clock, logger: logger.with("component", "job-controller"))
        do {
            try node.start()
            try controller.start()
        } catch {
            throw LocalClusterError(.database, message: "cannot start the controllers: \(error)")
        }

        self.stateLock = lock
        self.configuration = configuration
        self.serverURL = serverURL
        self.port = server.port
        self.adminToken = adminToken
        self.store = store
        self.registry = registry
        self.credentials = credentials
        self.server = server
        self.controller = controller
        self.node = node
        logger.info("local cluster started", ["url": serverURL, "state": directory.path])
    }

    /// Stops serving, stops the controllers and kills every container process (SIGTERM, then SIGKILL).
    public func stop() async {
        await server.stop()
        await controller.stop()
        await node.stop()
        close(stateLock)
        configuration.logger.info("local cluster stopped", ["url": serverURL])
    }

    /// `<state>/kubeconfig`, for `kubectl --kubeconfig`.
    public var kubeconfigPath: String { configuration.stateDirectory.appendingPathComponent("kubeconfig").path }
    /// `<state>/ca.crt`, the CA clients trust.
    public var caCertificatePath: String { configuration.stateDirectory.appendingPathComponent("ca.crt").path }

    /// The token file of service account `name` in `namespace`.
    public func serviceAccountTokenPath(namespace: String, name: String) -> String {
        configuration.stateDirectory.appendingPathComponent("serviceaccounts/\(namespace)/\(name)/token").path
    }

    /// One committed write to a pod, from the cluster's own change log.
    public struct PodChange: Sendable, Equatable {
        /// The global resource version of the write.
        public var resourceVersion: Int64
        /// `ADDED`, `MODIFIED` or `DELETED`.
        public var type: String
        /// The pod's name.
        public var name: String
        /// The pod's phase after the write.
        public var phase: String?
    }

    /// Every write to pods in `namespace`, in commit order.
    public func podChanges(namespace: String) throws(LocalClusterError) -> [PodChange] {
        do {
            return try store.database.query(
                "SELECT resource_version, type, name, phase FROM changes WHERE resource = 'pods' AND namespace = ? "
                    + "ORDER BY resource_version",
                [.text(namespace)]
            ).map { row in
                PodChange(
                    resourceVersion: try row.int64("resource_version"), type: try row.string("type"),
                    name: try row.string("name"), phase: try row.isNull("phase") ? nil : try row.string("phase"))
            }
        } catch {
            throw LocalClusterError(.database, message: "cannot read the change log: \(error)")
        }
    }
}
