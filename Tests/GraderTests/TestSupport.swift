import Audit
import Foundation
import HTTPServer
import HTTPTypes
import Kubernetes
import KubernetesClient
import Logging
import Synchronization
import Testing

@testable import Grader

/// A stand-in Kubernetes API server on a loopback port, answering from cluster state the test sets, the
/// way the real one answers the calls the grader makes; it records every request it sees.
final class FakeCluster: Sendable {
    struct State {
        var jobs: [String: [Job]] = [:]
        var pods: [String: [Pod]] = [:]
        var quotas: [String: ResourceQuota] = [:]
        /// Log text by pod name.
        var logs: [String: String] = [:]
        /// When true, every request waits far longer than the grader's timeout before answering.
        var stalls = false
    }

    /// The state answered from and the requests seen; the mutex guards both.
    final class Shared: Sendable {
        let mutex = Mutex<(state: State, requests: [HTTPRequest])>((State(), []))
    }

    let server: HTTPServer
    private let shared = Shared()

    init() throws {
        let shared = self.shared
        server = try HTTPServer(
            configuration: .init(shutdownGracePeriod: .milliseconds(200), logger: Logger(label: "fake", level: .error))
        ) { request in
            let state = shared.mutex.withLock { shared in
                shared.requests.append(request)
                return shared.state
            }
            if state.stalls { try? await Task.sleep(for: .seconds(30)) }
            return FakeCluster.answer(request, from: state)
        }
    }

    var url: String { "http://127.0.0.1:\(server.port)" }
    var requests: [HTTPRequest] { shared.mutex.withLock { $0.requests } }

    func update(_ change: (inout State) -> Void) {
        shared.mutex.withLock { change(&$0.state) }
    }

    func stop() async {
        await server.stop()
    }

    private static func answer(_ request: HTTPRequest, from state: State) -> HTTPResponse {
        let parts = request.path.split(separator: "/").map(String.init)
        switch parts.count {
        case 6 where parts[0...1] == ["apis", "batch"] && parts[3] == "namespaces" && parts[5] == "jobs":
            return .json(KubernetesList(apiVersion: "batch/v1", kind: "JobList", items: state.jobs[parts[4]] ?? []))
        case 5 where parts[0...1] == ["api", "v1"] && parts[4] == "pods":
            return .json(KubernetesList(apiVersion: "v1", kind: "PodList", items: state.pods[parts[3]] ?? []))
        case 6 where parts[0...1] == ["api", "v1"] && parts[4] == "resourcequotas":
            guard let quota = state.quotas[parts[5]] else {
                return notFound("resourcequotas \"\(parts[5])\" not found")
            }
            return .json(quota)
        case 7 where parts[0...1] == ["api", "v1"] && parts[4] == "pods" && parts[6] == "log":
            guard let log = state.logs[parts[5]] else { return notFound("pods \"\(parts[5])\" not found") }
            var lines = log.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            if let tail = request.queryValue("tailLines").flatMap(Int.init) { lines = Array(lines.suffix(tail)) }
            return .text(lines.map { $0 + "\n" }.joined())
        default:
            return notFound("the server could not find the requested resource")
        }
    }

    private static func notFound(_ message: String) -> HTTPResponse {
        .json(Status(code: 404, reason: "NotFound", message: message), status: .notFound)
    }
}

/// Cluster objects as the Job controller and kubelet would leave them.
enum Objects {
    static let created = Date(timeIntervalSince1970: 1_800_000_000)

    static func job(
        _ name: String, namespace: String = "free-service", active: Int32? = nil, failed: Int32? = nil,
        succeeded: Int32? = nil, conditions: [JobCondition] = [], started: Bool = true, order: Int = 0
    ) -> Job {
        var metadata = ObjectMeta(name: name, namespace: namespace)
        metadata.uid = "uid-\(name)"
        metadata.creationTimestamp = KubernetesTime(created.addingTimeInterval(Double(order)))
        var spec = JobSpec(template: PodTemplateSpec(), backoffLimit: 2)
        spec.selector = LabelSelector(matchLabels: ["batch.kubernetes.io/controller-uid": "uid-\(name)"])
        var job = Job(metadata: metadata, spec: spec)
        var status = JobStatus()
        status.active = active
        status.failed = failed
        status.succeeded = succeeded
        status.conditions = conditions.isEmpty ? nil : conditions
        status.startTime = started ? KubernetesTime(created.addingTimeInterval(Double(order) + 1)) : nil
        if conditions.contains(where: { $0.type == "Complete" }) {
            status.completionTime = KubernetesTime(created.addingTimeInterval(Double(order) + 30))
        }
        job.status = status
        return job
    }

    static func pod(
        _ name: String, of job: String, namespace: String = "free-service", phase: PodPhase, exitCode: Int32? = nil,
        waiting: String? = nil, order: Int = 0
    ) -> Pod {
        var metadata = ObjectMeta(
            name: name, namespace: namespace,
            labels: [
                "batch.kubernetes.io/job-name": job, "job-name": job,
                "batch.kubernetes.io/controller-uid": "uid-\(job)", "controller-uid": "uid-\(job)",
            ])
        metadata.creationTimestamp = KubernetesTime(created.addingTimeInterval(Double(order)))
        var pod = Pod(metadata: metadata, spec: PodSpec(containers: [Container(name: "job")], restartPolicy: "Never"))
        var status = PodStatus(phase: phase)
        var state = ContainerState()
        if let exitCode {
            state.terminated = .init(exitCode: exitCode, reason: exitCode == 0 ? "Completed" : "Error")
        } else if let waiting {
            state.waiting = .init(reason: waiting)
        } else if phase == .running {
            state.running = .init(startedAt: KubernetesTime(created))
        }
        var container = ContainerStatus(name: "job", state: state)
        container.started = phase == .running
        status.containerStatuses = [container]
        pod.status = status
        return pod
    }

    static func quota() -> ResourceQuota {
        var quota = ResourceQuota(
            metadata: ObjectMeta(name: "free-tier-quota", namespace: "free-service"),
            hard: ["pods": q("2"), "requests.cpu": q("2"), "limits.cpu": q("2")])
        quota.status = .init(
            hard: ["pods": q("2"), "requests.cpu": q("2"), "limits.cpu": q("2")],
            used: ["pods": q("1"), "requests.cpu": q("500m"), "limits.cpu": q("1")])
        return quota
    }

    private static func q(_ text: String) -> Quantity {
        (try? Quantity(text)) ?? .zero
    }
}

/// A clock tests move by hand; the mutex guards the instant.
final class ManualClock: Sendable {
    private let instant = Mutex(Date(timeIntervalSince1970: 1_800_000_100))

    var now: Date { instant.withLock { $0 } }

    func advance(milliseconds: Int) {
        instant.withLock { $0 = $0.addingTimeInterval(Double(milliseconds) / 1000) }
    }
}

/// Where the grader under test logs: nowhere, since some tests provoke error lines on purpose.
let quietLogger = Logger(label: "grader", level: .error, fileDescriptor: open("/dev/null", O_WRONLY))

/// A grader over a fake cluster, with its own temporary directory for tokens and the audit trail.
struct Harness {
    let directory: URL
    let cluster: FakeCluster
    let grader: Grader
    let audit: AuditStore
    let token: String
    let clock: ManualClock

    /// The tiers `Grader/grader.yaml` configures.
    static let tiers = [
        GraderConfiguration.Tier(name: "free", namespace: "free-service", quota: "free-tier-quota"),
        GraderConfiguration.Tier(name: "premium", namespace: "premium-service", quota: "premium-tier-quota"),
    ]

    /// Runs `body` with a harness, removing its files and stopping its servers whatever `body` does.
    ///
    /// - Parameters:
    ///   - clusterURL: where the grader's client points; the fake cluster's address unless given.
    ///   - cacheMaxAge: zero reads the cluster on every request, so each test sees the state it set.
    static func run(
        clusterURL: String? = nil, cacheMaxAge: Duration = .zero, clock: ManualClock? = nil,
        auditBusyTimeout: Duration = .seconds(5), _ body: (Harness) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("grader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try FakeCluster()
        do {
            let tokenFile = directory.appendingPathComponent("tokens.json").path
            let token = try TokenStore.addToken(id: "autograder", path: tokenFile)
            let configuration = GraderConfiguration(
                tiers: tiers, port: 0, tokenFile: tokenFile,
                auditDatabase: directory.appendingPathComponent("audit.sqlite").path,
                requestTimeout: .milliseconds(1500), cacheMaxAge: cacheMaxAge, pollInterval: nil)
            let audit = try AuditStore(path: configuration.auditDatabase, busyTimeout: auditBusyTimeout)
            let clock = clock ?? ManualClock()
            let grader = Grader(
                configuration: configuration,
                client: KubernetesClient(
                    configuration: KubernetesConfiguration(server: clusterURL ?? cluster.url, token: "grader-sa"),
                    timeout: .seconds(10)),
                tokens: try TokenStore(path: tokenFile), audit: audit, logger: quietLogger,
                now: { clock.now })
            try await body(
                Harness(
                    directory: directory, cluster: cluster, grader: grader, audit: audit, token: token, clock: clock))
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    /// `GET path` (or another method) with the harness's token unless `token` says otherwise.
    func request(
        _ path: String, query: [String: String] = [:], method: HTTPMethod = .get, token: String?? = .none
    ) async -> HTTPResponse {
        var headers: HTTPHeaders = ["User-Agent": "grader-tests"]
        if let token = token ?? self.token { headers["Authorization"] = "Bearer \(token)" }
        let items = query.sorted { $0.key < $1.key }.map { HTTPRequest.QueryItem(name: $0.key, value: $0.value) }
        return await grader.handle(
            HTTPRequest(method: method, path: path, query: items, headers: headers, remoteAddress: "127.0.0.1:50000"))
    }

    /// The last audit record.
    func lastRecord() throws -> AuditRecord {
        try #require(try audit.records(matching: AuditFilter(limit: 1)).last)
    }
}

/// The response body as JSON.
func body(_ response: HTTPResponse) throws -> JSONValue {
    try JSONValue(json: Data(try #require(response.bodyBytes)))
}

extension JSONValue {
    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var number: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    var items: [JSONValue] {
        if case .array(let values) = self { return values }
        return []
    }

    var isNull: Bool { self == .null }
}
