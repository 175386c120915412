import Audit
import Foundation
import HTTPServer
import HTTPTypes
import Kubernetes
import KubernetesClient
import Logging
import Synchronization

/// The grader: a read-only HTTP view of each tier's ResourceQuota, Jobs and Job logs, for an autograder.
///
/// It reads the Kubernetes API directly, over HTTP, with its own read-only service account, and only the
/// namespaces its configuration maps tiers to. Every request but `/healthz` needs a bearer token from the
/// tokens file, and every request, refused ones included, is written to the hash-chained audit trail before
/// it is answered; a request that cannot be recorded is answered 503 instead.
///
/// Endpoints (all GET; answers are JSON with sorted keys; cluster answers carry `data_age_ms`):
///
/// - `/healthz`: `{"status": "ok"}`.
/// - `/{tier}/resource-quota`: `tier`, `namespace`, `quota`, `hard` and `used` as quantity strings,
///   `hard_values` and `used_values` as numbers.
/// - `/{tier}/jobs`: `tier`, `namespace`, `jobs` (see `JobReport`).
/// - `/{tier}/jobs/{name}`: one `JobReport`'s fields with `tier`, `namespace`.
/// - `/{tier}/jobs/{name}/logs?tail=N&pod=P`: `status` `available` with `log`, or `pending` with `message`
///   while no pod of the Job has started (200 either way: a pending log is an answer, not an error).
///
/// Errors are `{"error", "reason", "code"}` (see `GraderError`); a cluster that does not answer within the
/// configured call timeout is a 503, never a hang.
public final class Grader: Sendable {
    /// The most log lines `?tail=` may ask for.
    public static let maximumTailLines = 10_000

    /// The Kubernetes calls the grader makes, which its Role must allow and should allow nothing more:
    /// (API group, resource, verb). `watch` is granted too, for `kubectl get -w` by an operator debugging
    /// with the same account.
    public static let requiredPermissions: [(group: String, resource: String, verb: String)] = [
        ("batch", "jobs", "list"), ("", "pods", "list"), ("", "pods/log", "get"), ("", "resourcequotas", "get"),
    ]

    /// How the grader is set up.
    public let configuration: GraderConfiguration

    private let tokens: TokenStore
    private let audit: AuditStore
    private let client: KubernetesClient
    private let readers: [String: TierReader]
    private let logger: Logger
    private let now: @Sendable () -> Date
    /// Runs the audit appends, in arrival order, off Swift's cooperative threads: each waits for SQLite's
    /// fsync, and a blocked cooperative thread would stall every other request's work.
    private let auditQueue = DispatchQueue(label: "tierserve.grader.audit")
    /// Entries waiting for the audit queue, each with the request waiting on it. Whatever arrives while a
    /// batch is being committed goes into the next one: one transaction (one fsync) for many requests.
    private let pendingAudit = Mutex<[(AuditEntry, CheckedContinuation<Result<Void, AuditError>, Never>)]>([])

    /// A grader reading the cluster through `client`.
    ///
    /// - Parameters:
    ///   - client: its calls are capped by `configuration.requestTimeout` whatever the client's own timeout.
    ///   - now: the clock that dates cached data and audit entries.
    public init(
        configuration: GraderConfiguration, client: KubernetesClient, tokens: TokenStore, audit: AuditStore,
        logger: Logger = Logger(label: "grader"), now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.client = client
        self.tokens = tokens
        self.audit = audit
        self.logger = logger
        self.now = now
        self.readers = configuration.tiers.mapValues { tier in
            TierReader(tier: tier, client: client, timeout: configuration.requestTimeout, now: now)
        }
    }

    /// Starts serving on the configured address and, when polling is on, refreshing the cache in the
    /// background.
    ///
    /// - Throws: `HTTPServerError` when the address cannot be bound.
    public func start() throws(HTTPServerError) -> RunningGrader {
        let server = try HTTPServer(
            configuration: HTTPServer.Configuration(
                host: configuration.host, port: configuration.port, maxBodySize: 64 << 10,
                shutdownGracePeriod: .seconds(5), logger: logger.with("component", "http"))
        ) { [self] request in
            await handle(request)
        }
        let poller = configuration.pollInterval.map { interval in
            Task { [self] in await poll(every: interval) }
        }
        logger.info(
            "listening",
            [
                "address": "\(configuration.host):\(server.port)",
                "tiers": configuration.tiers.keys.sorted().joined(separator: ","),
                "cluster": client.configuration.server, "audit": audit.path,
            ])
        return RunningGrader(server: server, poller: poller)
    }

    /// Reads every tier's state once, as the poller does.
    ///
    /// - Returns: the first failure, or nil when every read succeeded.
    @discardableResult
    public func refresh() async -> GraderError? {
        await withTaskGroup(of: GraderError?.self) { group in
            for reader in readers.values {
                group.addTask {
                    do throws(GraderError) {
                        try await reader.workload.refresh()
                        try await reader.quota.refresh()
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            var first: GraderError?
            for await failure in group where first == nil { first = failure }
            return first
        }
    }

    private func poll(every interval: Duration) async {
        var reachable = true
        while !Task.isCancelled {
            let failure = await refresh()
            if let failure, reachable {
                logger.warning("cluster read failing", ["error": failure.description])
            } else if failure == nil, !reachable {
                logger.info("cluster read recovered")
            }
            reachable = failure == nil
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }

    // MARK: - Requests

    /// Answers one request and records it in the audit trail first; the server calls this, tests may too.
    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let receivedAt = now()
        let started = ContinuousClock.now
        let requestID = Self.requestID(from: request)
        let logger = self.logger.with("request_id", requestID)

        // 1. Authenticate, check the method, route, and serve; each step may refuse.
        var principal = ""
        var target = AuditTarget()
        var response: HTTPResponse
        do throws(GraderError) {
            if request.path != "/healthz" { principal = try authenticate(request) }
            guard request.method == .get else { throw .methodNotAllowed(method: request.method.rawValue) }
            let route = try GraderRoute.parse(request.path, tiers: configuration.tiers)
            if let unknown = request.query.first(where: { !route.allowedQuery.contains($0.name) }) {
                let allowed = route.allowedQuery.sorted().joined(separator: ", ")
                throw .badRequest(
                    "unknown query parameter \"\(unknown.name)\"; "
                        + (allowed.isEmpty ? "this endpoint takes none" : "this endpoint takes: \(allowed)"))
            }
            response = try await serve(route, request: request, target: &target)
        } catch {
            response = error.response
            if case .clusterRefused = error {
                logger.warning("cluster refused read", ["error": error.description])
            } else if case .clusterUnavailable = error {
                logger.warning("cluster unavailable", ["error": error.description])
            }
        }
        response.headers["x-request-id"] = requestID
        response.headers["Cache-Control"] = "no-store"

        // 2. Record it, durably, before it is sent; a request the trail cannot hold is not answered.
        let elapsed = ContinuousClock.now - started
        let entry = AuditEntry(
            requestID: requestID, receivedAt: receivedAt, completedAt: now(),
            remoteAddress: request.remoteAddress ?? "", method: request.method.rawValue,
            path: Self.bounded(request.path, 2048),
            query: Self.bounded(request.query.map { "\($0.name)=\($0.value)" }.joined(separator: "&"), 2048),
            principal: principal, status: response.status.code, responseBytes: response.bodyBytes?.count ?? 0,
            durationMicroseconds: Int64(elapsed / .microseconds(1)),
            userAgent: Self.bounded(request.headers["User-Agent"] ?? "", 512), tier: target.tier,
            namespace: target.namespace, kind: target.kind, name: target.name)
        do {
            try await record(entry)
        } catch {
            logger.error("audit append failed", ["error": error.description])
            response =
                GraderError.auditUnavailable(
                    "the request could not be recorded in the audit trail, so it is not answered"
                ).response
            response.headers["x-request-id"] = requestID
        }

        // 3. One line per request.
        logger.info(
            "request",
            [
                "principal": principal.isEmpty ? "-" : principal, "method": request.method.rawValue,
                "path": request.path, "status": response.status.code,
                "ms": String(format: "%.1f", elapsed / .milliseconds(1)),
            ])
        return response
    }

    /// Appends `entry` to the audit trail and returns once it is durable, committed with whatever other
    /// entries are waiting (group commit), in arrival order.
    private func record(_ entry: AuditEntry) async throws(AuditError) {
        let result: Result<Void, AuditError> = await withCheckedContinuation { continuation in
            let startsBatch = pendingAudit.withLock { pending in
                pending.append((entry, continuation))
                return pending.count == 1
            }
            if startsBatch {
                auditQueue.async { [self] in commitPendingAudit() }
            }
        }
        try result.get()
    }

    /// Takes every waiting entry and commits them in one transaction, then lets their requests go on.
    private func commitPendingAudit() {
        let batch = pendingAudit.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !batch.isEmpty else { return }
        let outcome: Result<Void, AuditError>
        do throws(AuditError) {
            try audit.append(contentsOf: batch.map(\.0))
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        for (_, continuation) in batch {
            continuation.resume(returning: outcome)
        }
    }

    /// The token's id, from `Authorization: Bearer TOKEN`.
    private func authenticate(_ request: HTTPRequest) throws(GraderError) -> String {
        guard let header = request.headers["Authorization"] else {
            throw .unauthorized("no bearer token; send Authorization: Bearer TOKEN")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw .unauthorized("the Authorization header is not \"Bearer TOKEN\"")
        }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard let principal = tokens.principal(forToken: token) else {
            throw .unauthorized("the bearer token is not valid")
        }
        return principal
    }

    private func serve(
        _ route: GraderRoute, request: HTTPRequest, target: inout AuditTarget
    ) async throws(GraderError) -> HTTPResponse {
        switch route {
        case .health:
            return .json(["status": "ok"], encoder: Self.encoder)
        case .resourceQuota(let tier):
            let reader = try reader(tier)
            target = AuditTarget(
                tier: tier, namespace: reader.tier.namespace, kind: "ResourceQuota", name: reader.tier.quota)
            return .json(try await quotaReport(reader), encoder: Self.encoder)
        case .jobs(let tier):
            let reader = try reader(tier)
            target = AuditTarget(tier: tier, namespace: reader.tier.namespace, kind: "Job")
            let snapshot = try await reader.workload.value(maxAge: configuration.cacheMaxAge)
            let jobs = snapshot.value.jobs.sorted(by: Self.creationOrder).map {
                JobReport($0, pods: snapshot.value.pods(of: $0))
            }
            return .json(
                JobListReport(
                    tier: tier, namespace: reader.tier.namespace, jobs: jobs, dataAgeMs: age(of: snapshot.readAt)),
                encoder: Self.encoder)
        case .job(let tier, let name):
            let reader = try reader(tier)
            target = AuditTarget(tier: tier, namespace: reader.tier.namespace, kind: "Job", name: name)
            let (job, workload, readAt) = try await job(named: name, in: reader)
            return .json(
                JobDetailReport(
                    tier: tier, namespace: reader.tier.namespace, job: JobReport(job, pods: workload.pods(of: job)),
                    dataAgeMs: age(of: readAt)),
                encoder: Self.encoder)
        case .logs(let tier, let jobName):
            let reader = try reader(tier)
            target = AuditTarget(tier: tier, namespace: reader.tier.namespace, kind: "Pod/log", name: jobName)
            return try await logs(of: jobName, in: reader, request: request, target: &target)
        }
    }

    private func reader(_ tier: String) throws(GraderError) -> TierReader {
        guard let reader = readers[tier] else { throw .notFound("no tier \"\(tier)\"") }
        return reader
    }

    private func quotaReport(_ reader: TierReader) async throws(GraderError) -> QuotaReport {
        let snapshot = try await reader.quota.value(maxAge: configuration.cacheMaxAge)
        let quota = snapshot.value
        let hard = quota.status?.hard ?? quota.spec?.hard ?? [:]
        let used = quota.status?.used ?? [:]
        return QuotaReport(
            tier: reader.tier.name, namespace: reader.tier.namespace, quota: reader.tier.quota,
            hard: hard.mapValues(\.text), used: used.mapValues(\.text), hardValues: hard.mapValues(\.doubleValue),
            usedValues: used.mapValues(\.doubleValue), dataAgeMs: age(of: snapshot.readAt))
    }

    private func job(
        named name: String, in reader: TierReader
    ) async throws(GraderError) -> (Job, TierReader.Workload, Date) {
        let snapshot = try await reader.workload.value(maxAge: configuration.cacheMaxAge)
        guard let job = snapshot.value.jobs.first(where: { $0.metadata.name == name }) else {
            throw .notFound("no Job \"\(name)\" in tier \(reader.tier.name) (namespace \(reader.tier.namespace))")
        }
        return (job, snapshot.value, snapshot.readAt)
    }

    private func logs(
        of jobName: String, in reader: TierReader, request: HTTPRequest, target: inout AuditTarget
    ) async throws(GraderError) -> HTTPResponse {
        // 1. The query: a bounded positive tail, and a pod name of the right form.
        var tail: Int?
        if let text = request.queryValue("tail") {
            guard let lines = Int(text), (1...Self.maximumTailLines).contains(lines) else {
                throw .badRequest("tail=\(text) must be a whole number of lines from 1 to \(Self.maximumTailLines)")
            }
            tail = lines
        }
        let requestedPod = request.queryValue("pod")
        if let requestedPod, !KubernetesName.isSubdomain(requestedPod) {
            throw .badRequest("pod=\(requestedPod.prefix(80)) is not a valid Pod name")
        }

        // 2. The pod: the one asked for, which must be the Job's, or its newest.
        let (job, workload, readAt) = try await job(named: jobName, in: reader)
        let pods = workload.pods(of: job)
        let jobStatus = JobReport.phase(of: job, pods: pods).0
        var report = LogReport(
            status: "pending", tier: reader.tier.name, namespace: reader.tier.namespace, job: jobName,
            jobStatus: jobStatus, dataAgeMs: age(of: readAt))
        let pod: Pod
        if let requestedPod {
            guard let match = pods.first(where: { $0.metadata.name == requestedPod }) else {
                throw .notFound("pod \(requestedPod) is not a pod of Job \(jobName)")
            }
            pod = match
        } else {
            guard let newest = pods.last else {
                report.message = "Job \(jobName) has no pod yet, so there is no log; ask again once it runs"
                return .json(report, encoder: Self.encoder)
            }
            pod = newest
        }
        let podName = pod.metadata.name ?? ""
        target.name = podName
        report.pod = podName
        report.tail = tail

        // 3. A pod that has not started has no log yet: say so rather than pass on the API's 400.
        guard PodReport.hasStarted(pod) else {
            let waiting = PodReport(pod).reason.map { " (\($0))" } ?? ""
            report.message = "pod \(podName) has not started yet\(waiting); its log begins when its container runs"
            return .json(report, encoder: Self.encoder)
        }
        do {
            // TODO: cap the log's size with the API's limitBytes once `KubernetesClient.log` takes it. Safe for
            // now: the stack's Job pods print a short summary, and `?tail=` bounds what a grader asks for.
            report.log = try await client.log(
                ofPod: podName, in: reader.tier.namespace, container: Self.logContainer(of: pod), tailLines: tail,
                timeout: configuration.requestTimeout)
            report.status = "available"
        } catch {
            let message = error.status?.message ?? ""
            guard error.statusCode == 400, message.contains("waiting to start") || message.contains("ContainerCreating")
            else {
                throw GraderError.from(error, subject: "the log of pod \(podName) in \(reader.tier.namespace)")
            }
            report.message = "pod \(podName) has not started yet: \(message)"
        }
        return .json(report, encoder: Self.encoder)
    }

    // MARK: - Helpers

    /// The container to read when the pod has several, as `kubectl logs` picks it: the one the
    /// `kubectl.kubernetes.io/default-container` annotation names, else the first. Nil for a single container,
    /// which the API needs no name for.
    static func logContainer(of pod: Pod) -> String? {
        let containers = pod.spec?.containers ?? []
        guard containers.count > 1 else { return nil }
        return pod.metadata.annotations?["kubectl.kubernetes.io/default-container"] ?? containers.first?.name
    }

    /// Sorted keys and unescaped slashes, as the rest of the stack answers.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    private func age(of readAt: Date) -> Int64 {
        max(0, Int64((now().timeIntervalSince(readAt) * 1000).rounded(.down)))
    }

    private static func creationOrder(_ lhs: Job, _ rhs: Job) -> Bool {
        let left = lhs.metadata.creationTimestamp?.date ?? .distantPast
        let right = rhs.metadata.creationTimestamp?.date ?? .distantPast
        return left == right ? (lhs.metadata.name ?? "") < (rhs.metadata.name ?? "") : left < right
    }

    /// The caller's `x-request-id` when it is a short token, otherwise a fresh UUID.
    private static func requestID(from request: HTTPRequest) -> String {
        if let given = request.headers["x-request-id"], given.wholeMatch(of: /[A-Za-z0-9._-]{1,64}/) != nil {
            return given
        }
        return UUID().uuidString.lowercased()
    }

    private static func bounded(_ text: String, _ limit: Int) -> String {
        text.utf8.count <= limit ? text : String(decoding: text.utf8.prefix(limit), as: UTF8.self)
    }
}

/// A started grader: its server and its background poller.
public final class RunningGrader: Sendable {
    /// The HTTP server.
    public let server: HTTPServer
    private let poller: Task<Void, Never>?

    init(server: HTTPServer, poller: Task<Void, Never>?) {
        self.server = server
        self.poller = poller
    }

    /// The port it listens on.
    public var port: UInt16 { server.port }

    /// Stops polling, then stops the server, letting in-flight requests finish.
    public func stop() async {
        poller?.cancel()
        await server.stop()
    }
}

/// What a request read, for its audit entry.
struct AuditTarget {
    var tier = ""
    var namespace = ""
    var kind = ""
    var name = ""
}
