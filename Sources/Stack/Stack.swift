import Foundation
import HTTPClient
import Logging

/// The whole serving stack on one machine, each piece its own process as it would be its own pod: the
/// local cluster with `Manifests/` and the grader's manifests applied, one tier service per tier with its
/// own service-account token, the gateway driven by Envoy's config file, and the grader with its own
/// read-only service account.
public final class Stack: Sendable {
    /// Where things are and which ports to use.
    public struct Configuration: Sendable {
        /// The repository: `Manifests/`, `Models/`, `data/`.
        public var repository: URL
        /// Where the executables (`local-cluster`, `tier`, `gateway`, `job`, `grader`) are.
        public var binaries: URL
        /// Where the cluster's state, the logs and `stack.json` go.
        public var stateDirectory: URL
        /// The datasets directory the Jobs read.
        public var dataDirectory: URL
        /// The public port; 0 picks a free one.
        public var gatewayPort: UInt16
        /// The local cluster's API port; 0 picks a free one.
        public var clusterPort: UInt16
        /// The free tier service's port; 0 picks a free one.
        public var freePort: UInt16
        /// The premium tier service's port; 0 picks a free one.
        public var premiumPort: UInt16
        /// The grader's port; 0 picks a free one.
        public var graderPort: UInt16
        /// How long each piece may take to become ready.
        public var readinessTimeout: Duration
        /// Lifecycle lines.
        public var logger: Logger

        /// A configuration with the usual ports: 8080 public, 6443 cluster, 5001 and 5002 tiers, 5000 grader.
        public init(
            repository: URL, binaries: URL, stateDirectory: URL, dataDirectory: URL? = nil, gatewayPort: UInt16 = 8080,
            clusterPort: UInt16 = 6443, freePort: UInt16 = 5001, premiumPort: UInt16 = 5002, graderPort: UInt16 = 5000,
            readinessTimeout: Duration = .seconds(60), logger: Logger = Logger(label: "stack")
        ) {
            self.repository = repository
            self.binaries = binaries
            self.stateDirectory = stateDirectory
            self.dataDirectory = dataDirectory ?? repository.appendingPathComponent("data")
            self.gatewayPort = gatewayPort
            self.clusterPort = clusterPort
            self.freePort = freePort
            self.premiumPort = premiumPort
            self.graderPort = graderPort
            self.readinessTimeout = readinessTimeout
            self.logger = logger
        }
    }

    /// What a running stack offers, as `stack.json` records it.
    public struct Addresses: Codable, Sendable, Equatable {
        /// The public entry point, `http://127.0.0.1:PORT`.
        public var gateway: String
        /// The local cluster's API server.
        public var cluster: String
        /// A kubeconfig for kubectl with the admin user.
        public var kubeconfig: String
        /// The cluster's admin token file.
        public var adminTokenFile: String
        /// The CA the cluster's certificate chains to.
        public var caFile: String
        /// Each tier service, by tier.
        public var tiers: [String: String]
        /// The grader.
        public var grader: String?
        /// A file holding a bearer token the grader accepts.
        public var graderTokenFile: String?
        /// Where each process's log is.
        public var logs: String
        /// The supervising process, which `stack down` signals.
        public var supervisorPID: Int32
        /// Each piece's process id, so `stack down` can stop them even when the supervisor is gone.
        public var processes: [String: Int32]?
    }

    /// The supervisor and the pieces started so far, written to `pieces.json` as each piece starts, so that
    /// `stack down` can stop them even if the supervisor dies before the stack is up (and `stack.json` written).
    public struct Pieces: Codable, Sendable, Equatable {
        /// The supervising process.
        public var supervisorPID: Int32
        /// Each piece's process id, by name.
        public var processes: [String: Int32]

        /// A record.
        public init(supervisorPID: Int32, processes: [String: Int32]) {
            self.supervisorPID = supervisorPID
            self.processes = processes
        }
    }

    /// The name of the pieces record in the state directory.
    public static let piecesFileName = "pieces.json"

    /// The tiers: name, namespace and service account, as `Manifests/` declares them.
    static let tiers = [("free", "free-service", "free-tier"), ("premium", "premium-service", "premium-tier")]

    /// How the stack was set up.
    public let configuration: Configuration
    /// Where everything is.
    public let addresses: Addresses
    private let processes: [ManagedProcess]

    private init(configuration: Configuration, addresses: Addresses, processes: [ManagedProcess]) {
        self.configuration = configuration
        self.addresses = addresses
        self.processes = processes
    }

    /// Starts every piece, in dependency order, waiting for each to be ready before the next.
    ///
    /// - Throws: `StackError` naming the piece that did not start or become ready, with its last log lines;
    ///   whatever had started is stopped first.
    public static func up(_ configuration: Configuration) async throws(StackError) -> Stack {
        var started: [ManagedProcess] = []
        do {
            return try await start(configuration, into: &started)
        } catch {
            for process in started.reversed() { await process.stop() }
            try? FileManager.default.removeItem(at: configuration.stateDirectory.appendingPathComponent(piecesFileName))
            throw error
        }
    }

    private static func start(
        _ configuration: Configuration, into started: inout [ManagedProcess]
    ) async throws(StackError) -> Stack {
        let files = FileManager.default
        let state = configuration.stateDirectory
        let clusterState = state.appendingPathComponent("cluster", isDirectory: true)
        let logs = state.appendingPathComponent("logs", isDirectory: true)
        do {
            try files.createDirectory(at: logs, withIntermediateDirectories: true)
            try files.createDirectory(at: clusterState, withIntermediateDirectories: true)
        } catch {
            throw .setup("cannot create \(logs.path): \(error.localizedDescription)")
        }
        func port(_ wanted: UInt16) throws(StackError) -> UInt16 {
            if wanted != 0 {
                // Checked before anything starts, so a readiness probe can never be answered by someone else's
                // server on the same port.
                guard FreePort.isFree(wanted) else {
                    throw .setup(
                        "port \(wanted) on 127.0.0.1 is in use; stop what listens there or choose another port")
                }
                return wanted
            }
            guard let free = FreePort.pick() else { throw .setup("no free port on 127.0.0.1") }
            return free
        }
        // One port per piece: a port given twice would have a readiness probe answered by the wrong piece.
        let requested = [
            ("--cluster-port", configuration.clusterPort), ("--gateway-port", configuration.gatewayPort),
            ("--free-port", configuration.freePort), ("--premium-port", configuration.premiumPort),
            ("--grader-port", configuration.graderPort),
        ].filter { $0.1 != 0 }
        for (index, (flag, value)) in requested.enumerated() {
            if let other = requested[..<index].first(where: { $0.1 == value }) {
                throw .setup("\(other.0) and \(flag) are both \(value); give each piece its own port")
            }
        }
        var taken = Set(requested.map(\.1))
        func distinctPort(_ wanted: UInt16) throws(StackError) -> UInt16 {
            guard wanted == 0 else { return try port(wanted) }
            for _ in 0..<20 {
                let picked = try port(0)
                if taken.insert(picked).inserted { return picked }
            }
            throw .setup("no free port on 127.0.0.1")
        }
        let clusterPort = try distinctPort(configuration.clusterPort)
        let gatewayPort = try distinctPort(configuration.gatewayPort)
        let tierPorts = [
            "free": try distinctPort(configuration.freePort), "premium": try distinctPort(configuration.premiumPort),
        ]
        let manifests = configuration.repository.appendingPathComponent("Manifests")
        let client = HTTPClient(configuration: .init(connectTimeout: .seconds(1), timeout: .seconds(2)))
        let graderPort = try distinctPort(configuration.graderPort)
        let clusterManifests = try combinedManifests(configuration, state: state)

        // 1. The local cluster, with the job image mapped to this machine's job binary, models and data.
        let images = state.appendingPathComponent("images.json")
        let imageMap: [String: Any] = [
            "images": [
                "tierserve/job:latest": [
                    "command": [try binary("job", in: configuration).path],
                    "env": [
                        "MODEL_DIR": configuration.repository.appendingPathComponent("Models").path,
                        "DATA_DIR": configuration.dataDirectory.path, "OPENBLAS_NUM_THREADS": "1",
                    ],
                ]
            ]
        ]
        do {
            try JSONSerialization.data(withJSONObject: imageMap, options: [.prettyPrinted, .sortedKeys]).write(
                to: images)
        } catch {
            throw .setup("cannot write \(images.path): \(error.localizedDescription)")
        }
        let cluster = try launch(
            "local-cluster", configuration,
            [
                "--state-dir", clusterState.path, "--manifests", clusterManifests.path, "--images", images.path,
                "--port", String(clusterPort),
            ],
            logs: logs, into: &started)
        let caFile = clusterState.appendingPathComponent("ca.crt")
        let clusterURL = "https://127.0.0.1:\(clusterPort)"
        try await waitUntilReady(
            cluster, url: "\(clusterURL)/version", client: client, timeout: configuration.readinessTimeout,
            tls: caFile, tokenFile: clusterState.appendingPathComponent("admin.token"))

        // 2. One tier service per tier, each with its own service account's token.
        var tierURLs: [String: String] = [:]
        var tierProcesses: [(ManagedProcess, String)] = []
        for (tier, namespace, account) in tiers {
            let tokenFile = clusterState.appendingPathComponent("serviceaccounts/\(namespace)/\(account)/token")
            let listen = "127.0.0.1:\(tierPorts[tier] ?? 0)"
            let process = try launch(
                "tier", configuration,
                [
                    "--tier", tier, "--namespace", namespace, "--listen", listen,
                    "--job-template", manifests.appendingPathComponent("\(tier)-tier-job.yaml").path,
                    "--server", clusterURL, "--token-file", tokenFile.path, "--ca-file", caFile.path,
                ],
                name: "\(tier)-tier", logs: logs, into: &started)
            tierURLs[tier] = "http://\(listen)"
            tierProcesses.append((process, "http://\(listen)/readyz"))
        }
        for (process, url) in tierProcesses {
            try await waitUntilReady(process, url: url, client: client, timeout: configuration.readinessTimeout)
        }

        // 3. The gateway, resolving the tier Services' cluster names to the tier processes.
        let gateway = try launch(
            "gateway", configuration,
            [
                // Through the state directory's link to Manifests, so that the command line names the state
                // directory, as every piece's does: `stack down` recognises its pieces by it.
                "--config", clusterManifests.appendingPathComponent("tierserve/envoy/envoy.yaml").path,
                "--listen", "127.0.0.1:\(gatewayPort)",
                "--resolve", "free-tier-service.free-service.svc.cluster.local=127.0.0.1:\(tierPorts["free"] ?? 0)",
                "--resolve",
                "premium-tier-service.premium-service.svc.cluster.local=127.0.0.1:\(tierPorts["premium"] ?? 0)",
            ],
            logs: logs, into: &started)
        try await waitUntilReady(
            gateway, url: "http://127.0.0.1:\(gatewayPort)/healthz", client: client,
            timeout: configuration.readinessTimeout)

        // 4. The grader, reading the cluster with its own read-only service account.
        let graderState = state.appendingPathComponent("grader", isDirectory: true)
        let graderToken = try prepareGrader(configuration, state: graderState, port: graderPort)
        let grader = try launch(
            "grader", configuration,
            [
                "serve", "--config", graderState.appendingPathComponent("grader.yaml").path, "--server", clusterURL,
                "--token-file",
                clusterState.appendingPathComponent("serviceaccounts/tierserve-grader/grader/token").path,
                "--ca-file", caFile.path,
            ],
            logs: logs, into: &started)
        try await waitUntilReady(
            grader, url: "http://127.0.0.1:\(graderPort)/healthz", client: client,
            timeout: configuration.readinessTimeout)

        let addresses = Addresses(
            gateway: "http://127.0.0.1:\(gatewayPort)", cluster: clusterURL,
            kubeconfig: clusterState.appendingPathComponent("kubeconfig").path,
            adminTokenFile: clusterState.appendingPathComponent("admin.token").path, caFile: caFile.path,
            tiers: tierURLs, grader: "http://127.0.0.1:\(graderPort)", graderTokenFile: graderToken.path,
            logs: logs.path, supervisorPID: getpid(),
            processes: Dictionary(uniqueKeysWithValues: started.map { ($0.name, $0.processIdentifier) }))
        let stack = Stack(configuration: configuration, addresses: addresses, processes: started)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(addresses).write(to: state.appendingPathComponent("stack.json"))
        } catch {
            throw .setup("cannot write stack.json: \(error.localizedDescription)")
        }
        configuration.logger.info("stack up", ["gateway": addresses.gateway, "cluster": clusterURL])
        return stack
    }

    /// A manifests directory for the local cluster holding the stack's and the grader's manifests (the grader's
    /// service account and its read-only Roles), as links to the repository's own directories.
    private static func combinedManifests(_ configuration: Configuration, state: URL) throws(StackError) -> URL {
        let directory = state.appendingPathComponent("manifests", isDirectory: true)
        let files = FileManager.default
        do {
            try? files.removeItem(at: directory)
            try files.createDirectory(at: directory, withIntermediateDirectories: true)
            try files.createSymbolicLink(
                at: directory.appendingPathComponent("tierserve"),
                withDestinationURL: configuration.repository.appendingPathComponent("Manifests"))
            try files.createSymbolicLink(
                at: directory.appendingPathComponent("grader"),
                withDestinationURL: configuration.repository.appendingPathComponent("Grader/manifests"))
            try Data("resources:\n  - tierserve\n  - grader\n".utf8)
                .write(to: directory.appendingPathComponent("kustomization.yaml"))
        } catch {
            throw .setup("cannot lay out \(directory.path): \(error.localizedDescription)")
        }
        return directory
    }

    /// Writes the grader's configuration for this stack and, on first start, a token for local callers
    /// (`state/grader/token`, readable by its owner only); returns the token file.
    private static func prepareGrader(
        _ configuration: Configuration, state: URL, port: UInt16
    ) throws(StackError) -> URL {
        let files = FileManager.default
        let tokens = state.appendingPathComponent("tokens.json")
        let tokenFile = state.appendingPathComponent("token")
        let yaml = """
            # Written by `stack up` for this stack; Grader/grader.yaml documents every key.
            listen: 127.0.0.1:\(port)
            tokenFile: \(tokens.path)
            auditDatabase: \(state.appendingPathComponent("audit.sqlite").path)
            retention:
              maxRows: 1000000
              maxAgeDays: 90
            cluster:
              requestTimeoutMilliseconds: 1500
              cacheMaxAgeMilliseconds: 2000
              pollIntervalMilliseconds: 1000
            tiers:
              free:
                namespace: free-service
                quota: free-tier-quota
              premium:
                namespace: premium-service
                quota: premium-tier-quota

            """
        do {
            try files.createDirectory(at: state, withIntermediateDirectories: true)
            try Data(yaml.utf8).write(to: state.appendingPathComponent("grader.yaml"))
        } catch {
            throw .setup("cannot write the grader's configuration in \(state.path): \(error.localizedDescription)")
        }
        guard !files.fileExists(atPath: tokenFile.path) else { return tokenFile }

        // `grader token add` prints the new token once; it is kept where `submit` and users can read it.
        let process = Process()
        process.executableURL = try binary("grader", in: configuration)
        process.arguments = ["token", "add", "local", "--token-file", tokens.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw .setup("cannot run grader token add: \(error.localizedDescription)")
        }
        let token = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        guard process.terminationStatus == 0, !token.isEmpty else {
            throw .setup("grader token add failed with status \(process.terminationStatus)")
        }
        guard
            files.createFile(
                atPath: tokenFile.path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else { throw .setup("cannot write \(tokenFile.path)") }
        return tokenFile
    }

    /// Stops every piece, the grader and gateway first and the cluster last, and removes `stack.json`.
    public func down() async {
        for process in processes.reversed() {
            await process.stop()
            configuration.logger.info("stopped", ["process": process.name, "status": process.exitStatus ?? -1])
        }
        try? FileManager.default.removeItem(at: configuration.stateDirectory.appendingPathComponent("stack.json"))
        try? FileManager.default.removeItem(
            at: configuration.stateDirectory.appendingPathComponent(Self.piecesFileName))
    }

    /// The first piece that has exited on its own, with its status and last log lines; nil while all run.
    public func exitedProcess() -> String? {
        guard let process = processes.first(where: { !$0.isRunning }) else { return nil }
        return "\(process.name) \(process.exitDescription); its log ends:\n\(process.logTail())"
    }

    private static func binary(_ name: String, in configuration: Configuration) throws(StackError) -> URL {
        let url = configuration.binaries.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw .setup("\(url.path) is missing; build it first (swift build)")
        }
        return url
    }

    private static func launch(
        _ executable: String, _ configuration: Configuration, _ arguments: [String], name: String? = nil,
        logs: URL, into started: inout [ManagedProcess]
    ) throws(StackError) -> ManagedProcess {
        let name = name ?? executable
        let url = try binary(executable, in: configuration)
        do {
            let process = try ManagedProcess(
                name: name, executable: url, arguments: arguments, logURL: logs.appendingPathComponent("\(name).log"))
            started.append(process)
            configuration.logger.info("started", ["process": name, "pid": process.processIdentifier])
            let pieces = Pieces(
                supervisorPID: getpid(),
                processes: Dictionary(uniqueKeysWithValues: started.map { ($0.name, $0.processIdentifier) }))
            let record = logs.deletingLastPathComponent().appendingPathComponent(piecesFileName)
            try? JSONEncoder().encode(pieces).write(to: record, options: .atomic)
            return process
        } catch {
            throw .setup("cannot start \(url.path): \(error.localizedDescription)")
        }
    }

    /// Polls `url` until it answers 200, the process exits, or `timeout` passes.
    private static func waitUntilReady(
        _ process: ManagedProcess, url: String, client: HTTPClient, timeout: Duration, tls caFile: URL? = nil,
        tokenFile: URL? = nil
    ) async throws(StackError) {
        let deadline = ContinuousClock.now + timeout
        var request = HTTPClientRequest(url: url, timeout: .seconds(2))
        let tlsClient = caFile.map { file in
            HTTPClient(
                configuration: .init(
                    connectTimeout: .seconds(1), timeout: .seconds(2),
                    tls: .init(trustedCertificates: .file(path: file.path))))
        }
        var lastProblem = "no answer yet"
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw .notReady(process.name, process.exitDescription, log: process.logTail())
            }
            // The cluster writes its CA and tokens as it starts; until then there is nothing to ask with.
            if let caFile, !FileManager.default.fileExists(atPath: caFile.path) {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            if let tokenFile {
                guard let token = try? String(contentsOf: tokenFile, encoding: .utf8) else {
                    try? await Task.sleep(for: .milliseconds(100))
                    continue
                }
                request.setBearerToken(token.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            do {
                let response = try await (tlsClient ?? client).send(request)
                if response.status == .ok { return }
                lastProblem = "\(url) answered \(response.status.code): \(response.text.prefix(200))"
            } catch {
                lastProblem = "\(url): \(error)"
            }
            try? await Task.sleep(for: .milliseconds(100))
            request.timeout = .seconds(2)
        }
        throw .notReady(process.name, "not ready after \(timeout): \(lastProblem)", log: process.logTail())
    }
}

/// Why the stack could not come up.
public enum StackError: Error, CustomStringConvertible {
    /// Something the stack needs is missing or cannot be written.
    case setup(String)
    /// A piece started but did not become ready.
    case notReady(String, String, log: String)

    /// What went wrong, with the piece's last log lines.
    public var description: String {
        switch self {
        case .setup(let message): message
        case .notReady(let name, let problem, let log): "\(name) \(problem)\n--- last lines of its log:\n\(log)"
        }
    }
}
