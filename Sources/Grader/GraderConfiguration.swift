import Audit
import Foundation
import YAML

/// How the grader is set up: which tiers it shows, where it listens, and where its tokens and audit trail live.
///
/// Read from a YAML file (`Grader/grader.yaml` by default); relative paths in it are relative to the working
/// directory the grader starts in. Tiers map to namespaces only here: a request can name a tier, never a
/// namespace.
public struct GraderConfiguration: Sendable, Equatable {
    /// One tier the grader reports on.
    public struct Tier: Sendable, Equatable {
        /// The name in request paths, such as `free`.
        public var name: String
        /// The namespace its Jobs and quota are in.
        public var namespace: String
        /// The name of its ResourceQuota.
        public var quota: String

        /// A tier from its parts.
        public init(name: String, namespace: String, quota: String) {
            self.name = name
            self.namespace = namespace
            self.quota = quota
        }
    }

    /// The tiers, by name.
    public var tiers: [String: Tier]
    /// The IPv4 address to bind.
    public var host: String
    /// The port to bind; 0 lets the kernel pick.
    public var port: UInt16
    /// The tokens file (hashes only).
    public var tokenFile: String
    /// The audit trail's SQLite file.
    public var auditDatabase: String
    /// How long audit rows are kept.
    public var retention: AuditRetention
    /// The deadline of each Kubernetes call; short, so an unreachable cluster is a prompt 503.
    public var requestTimeout: Duration
    /// The oldest cached cluster state a request is answered from without reading the cluster again.
    public var cacheMaxAge: Duration
    /// How often the tiers' state is read in the background to keep the cache fresh; nil reads only on demand.
    public var pollInterval: Duration?

    /// A configuration; the defaults are those of `Grader/grader.yaml`.
    public init(
        tiers: [Tier], host: String = "127.0.0.1", port: UInt16 = 5000,
        tokenFile: String = "state/grader/tokens.json", auditDatabase: String = "state/grader/audit.sqlite",
        retention: AuditRetention = AuditRetention(maxRows: 1_000_000, maxAge: .seconds(90 * 86_400)),
        requestTimeout: Duration = .milliseconds(1500), cacheMaxAge: Duration = .seconds(2),
        pollInterval: Duration? = .seconds(1)
    ) {
        self.tiers = Dictionary(tiers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.host = host
        self.port = port
        self.tokenFile = tokenFile
        self.auditDatabase = auditDatabase
        self.retention = retention
        self.requestTimeout = requestTimeout
        self.cacheMaxAge = cacheMaxAge
        self.pollInterval = pollInterval
    }
}

extension GraderConfiguration {
    /// Reads and checks the YAML file at `path`.
    ///
    /// - Throws: `GraderConfigurationError` naming the file, the key and what it should hold.
    public static func load(path: String) throws(GraderConfigurationError) -> GraderConfiguration {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw GraderConfigurationError("cannot read the grader configuration \(path)")
        }
        return try parse(yaml: text, source: path)
    }

    /// Parses and checks configuration YAML; `source` names it in errors.
    ///
    /// - Throws: `GraderConfigurationError`.
    public static func parse(yaml text: String, source: String) throws(GraderConfigurationError) -> GraderConfiguration
    {
        // 1. Parse, refusing keys this version does not know: a misspelt key must not silently mean a default.
        let document: YAMLValue
        do {
            document = try YAMLParser.parseDocument(text)
        } catch {
            throw GraderConfigurationError("\(source) is not valid YAML: \(error)")
        }
        try checkKeys(
            document, allowed: ["listen", "tokenFile", "auditDatabase", "retention", "cluster", "tiers"], at: source)
        try checkKeys(document["retention"], allowed: ["maxRows", "maxAgeDays"], at: "\(source): retention")
        try checkKeys(
            document["cluster"],
            allowed: ["requestTimeoutMilliseconds", "cacheMaxAgeMilliseconds", "pollIntervalMilliseconds"],
            at: "\(source): cluster")

        // 2. Tiers: at least one, each a DNS label mapping to a namespace and a quota.
        guard case .mapping(let tierEntries)? = document["tiers"], !tierEntries.isEmpty else {
            throw GraderConfigurationError(
                "\(source): tiers is missing; give each tier a namespace and quota, such as "
                    + "tiers: {free: {namespace: free-service, quota: free-tier-quota}}")
        }
        var tiers: [Tier] = []
        for entry in tierEntries {
            let at = "\(source): tiers.\(entry.key)"
            guard KubernetesName.isLabel(entry.key) else {
                throw GraderConfigurationError("\(at): a tier name must be a DNS-1123 label such as free")
            }
            try checkKeys(entry.value, allowed: ["namespace", "quota"], at: at)
            guard let namespace = entry.value["namespace"]?.stringValue, KubernetesName.isLabel(namespace) else {
                throw GraderConfigurationError("\(at).namespace must be a namespace name such as free-service")
            }
            guard let quota = entry.value["quota"]?.stringValue, KubernetesName.isSubdomain(quota) else {
                throw GraderConfigurationError("\(at).quota must be a ResourceQuota name such as free-tier-quota")
            }
            tiers.append(Tier(name: entry.key, namespace: namespace, quota: quota))
        }
        var configuration = GraderConfiguration(tiers: tiers)

        // 3. Where to listen and what to keep.
        if let listen = document["listen"] {
            guard let text = listen.stringValue else {
                throw GraderConfigurationError("\(source): listen must be HOST:PORT such as 127.0.0.1:5000")
            }
            (configuration.host, configuration.port) = try parseListen(text, at: "\(source): listen")
        }
        if let path = document["tokenFile"] {
            configuration.tokenFile = try nonEmptyString(path, at: "\(source): tokenFile")
        }
        if let path = document["auditDatabase"] {
            configuration.auditDatabase = try nonEmptyString(path, at: "\(source): auditDatabase")
        }
        if let rows = document["retention"]?["maxRows"] {
            configuration.retention.maxRows = try positiveInteger(rows, at: "\(source): retention.maxRows")
        }
        if let days = document["retention"]?["maxAgeDays"] {
            let count = try positiveInteger(days, at: "\(source): retention.maxAgeDays")
            configuration.retention.maxAge = .seconds(count * 86_400)
        }

        // 4. How the cluster is read.
        let cluster = document["cluster"]
        if let value = cluster?["requestTimeoutMilliseconds"] {
            let milliseconds = try positiveInteger(value, at: "\(source): cluster.requestTimeoutMilliseconds")
            configuration.requestTimeout = .milliseconds(milliseconds)
        }
        if let value = cluster?["cacheMaxAgeMilliseconds"] {
            configuration.cacheMaxAge = .milliseconds(
                try nonNegativeInteger(value, at: "\(source): cluster.cacheMaxAgeMilliseconds"))
        }
        if let value = cluster?["pollIntervalMilliseconds"] {
            let milliseconds = try nonNegativeInteger(value, at: "\(source): cluster.pollIntervalMilliseconds")
            configuration.pollInterval = milliseconds == 0 ? nil : .milliseconds(milliseconds)
        }
        return configuration
    }

    /// `HOST:PORT` with an IPv4 host.
    ///
    /// - Throws: `GraderConfigurationError` naming `at`.
    public static func parseListen(_ text: String, at: String) throws(GraderConfigurationError) -> (String, UInt16) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]),
            !text[..<colon].isEmpty
        else {
            throw GraderConfigurationError("\(at) \"\(text)\" is not HOST:PORT such as 127.0.0.1:5000")
        }
        return (String(text[..<colon]), port)
    }

    private static func checkKeys(_ value: YAMLValue?, allowed: Set<String>, at: String)
        throws(GraderConfigurationError)
    {
        guard let value else { return }
        guard case .mapping(let entries) = value else {
            throw GraderConfigurationError("\(at) must be a mapping")
        }
        if let unknown = entries.first(where: { !allowed.contains($0.key) }) {
            throw GraderConfigurationError(
                "\(at): unknown key \"\(unknown.key)\"; known keys: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    private static func nonEmptyString(_ value: YAMLValue, at: String) throws(GraderConfigurationError) -> String {
        guard let text = value.stringValue, !text.isEmpty else {
            throw GraderConfigurationError("\(at) must be a file path")
        }
        return text
    }

    private static func positiveInteger(_ value: YAMLValue, at: String) throws(GraderConfigurationError) -> Int {
        let number = try nonNegativeInteger(value, at: at)
        guard number > 0 else { throw GraderConfigurationError("\(at) must be a positive integer") }
        return number
    }

    private static func nonNegativeInteger(_ value: YAMLValue, at: String) throws(GraderConfigurationError) -> Int {
        guard case .int(let number) = value, number >= 0, number <= Int64(Int32.max) else {
            throw GraderConfigurationError("\(at) must be a non-negative integer, not \(value)")
        }
        return Int(number)
    }
}

/// A grader configuration or tokens file that cannot be used, with a message naming the file and key.
public struct GraderConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong and how to fix it.
    public var message: String

    /// An error with `message`.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
