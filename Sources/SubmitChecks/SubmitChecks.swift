import Audit
import Foundation
import HTTPClient
import HTTPTypes
import Synchronization

/// The reference autograder's checks, and more, run against any deployment: a gateway address for the
/// tiers and a grader address (with a token) for the cluster's state.
///
/// Each check polls with its own deadline and ends as pass, fail or timeout; a check that needs an
/// earlier one's job is skipped when that one did not pass.
public struct SubmitChecks: Sendable {
    /// Where the deployment is.
    public struct Target: Sendable {
        /// The public entry point, such as `http://127.0.0.1:8080` or the load balancer's address.
        public var gateway: String
        /// The grader, such as `http://127.0.0.1:5000`.
        public var grader: String
        /// A bearer token the grader accepts.
        public var graderToken: String
        /// How long a job may take to finish.
        public var jobDeadline: Duration
        /// The grader's audit database, when it is on this machine (a local stack); without it the audit
        /// check is skipped.
        public var auditDatabase: String?

        /// Creates a target.
        public init(
            gateway: String, grader: String, graderToken: String, jobDeadline: Duration = .seconds(120),
            auditDatabase: String? = nil
        ) {
            self.gateway = Self.trimmed(gateway)
            self.grader = Self.trimmed(grader)
            self.graderToken = graderToken
            self.jobDeadline = jobDeadline
            self.auditDatabase = auditDatabase
        }

        private static func trimmed(_ url: String) -> String {
            var url = url
            while url.hasSuffix("/") { url.removeLast() }
            return url
        }
    }

    /// The deployment.
    public let target: Target
    private let client = HTTPClient(configuration: .init(connectTimeout: .seconds(3), timeout: .seconds(15)))
    /// How many requests the grader answered during this run, which its audit trail must hold at least.
    private let graderAnswers = Counter()

    /// A count shared by the checks' concurrent requests.
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// Checks against `target`.
    public init(target: Target) {
        self.target = target
    }

    /// The checks' identifiers and titles, in the order they run.
    public static let catalogue: [(id: String, title: String)] = [
        ("post-free", "POST /free returns a job name and \"submitted\""),
        ("free-quota", "GET /free/resource-quota shows 2 CPU and 2 pods"),
        ("free-job", "a free-tier job runs to completion"),
        ("premium-job", "a premium-tier job runs to completion and its logs hold the model's result"),
        ("not-routed", "/freebie and /premiumplus are not routed"),
        ("bad-input", "bad input gets a 4xx JSON error"),
        ("free-burst", "a burst of 6 on the free tier never runs more than 2 pods, and all 6 finish"),
        ("audit-recorded", "the grader's audit trail recorded this run, and its chain verifies"),
    ]

    /// Runs every check in order, telling `progress` as each starts and ends.
    public func run(progress: @Sendable (String, CheckResult?) -> Void = { _, _ in }) async -> [CheckResult] {
        let runStarted = Date()
        var results: [CheckResult] = []
        var freeJob: String?
        for (id, title) in Self.catalogue {
            progress(title, nil)
            let started = ContinuousClock.now
            var outcome: (CheckOutcome, String)
            switch id {
            case "post-free":
                let (result, name) = await postFree()
                outcome = result
                freeJob = name
            case "free-quota": outcome = await freeQuota()
            case "free-job":
                if let freeJob {
                    outcome = await waitForJob(freeJob, tier: "free")
                } else {
                    outcome = (.skipped, "no job: POST /free did not pass")
                }
            case "premium-job": outcome = await premiumJob()
            case "not-routed": outcome = await notRouted()
            case "bad-input": outcome = await badInput()
            case "free-burst": outcome = await freeBurst()
            default: outcome = auditRecorded(since: runStarted)
            }
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            let result = CheckResult(id: id, title: title, outcome: outcome.0, seconds: seconds, detail: outcome.1)
            progress(title, result)
            results.append(result)
        }
        return results
    }

    // MARK: - The checks

    private func postFree() async -> ((CheckOutcome, String), String?) {
        switch await submit(tier: "free", dataset: "mnist") {
        case .success(let name): return ((.pass, "created \(name)"), name)
        case .failure(let problem): return ((.fail, problem.description), nil)
        }
    }

    private func freeQuota() async -> (CheckOutcome, String) {
        let answer: [String: Any]
        switch await graderJSON("/free/resource-quota") {
        case .success(let body): answer = body
        case .failure(let problem): return (.fail, problem.description)
        }
        let hard = answer["hard"] as? [String: String] ?? [:]
        let cpu = hard["requests.cpu"] ?? hard["cpu"]
        guard hard["pods"] == "2", cpu == "2" else {
            return (
                .fail,
                "hard limits are \(hard.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")); expected pods=2 and requests.cpu=2"
            )
        }
        return (
            .pass,
            "pods=2 requests.cpu=2 limits.cpu=\(hard["limits.cpu"] ?? "-") in \(answer["namespace"] as? String ?? "?")"
        )
    }

    private func premiumJob() async -> (CheckOutcome, String) {
        let name: String
        switch await submit(tier: "premium", dataset: "kmnist") {
        case .success(let created): name = created
        case .failure(let problem): return (.fail, problem.description)
        }
        let finished = await waitForJob(name, tier: "premium")
        guard finished.0 == .pass else { return finished }
        switch await graderJSON("/premium/jobs/\(name)/logs?tail=5") {
        case .failure(let problem):
            return (.fail, "\(name) finished but its logs could not be read: \(problem)")
        case .success(let body):
            let log = body["log"] as? String ?? ""
            guard let line = log.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
                let summary = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let accuracy = summary["accuracy"] as? Double, let model = summary["model"] as? String
            else {
                return (.fail, "\(name)'s logs hold no result summary; they end:\n\(log)")
            }
            return (.pass, "\(name): \(model) scored \(summary["samples"] ?? "?") images, accuracy \(accuracy)")
        }
    }

    private func notRouted() async -> (CheckOutcome, String) {
        for path in ["/freebie", "/premiumplus"] {
            switch await post(path, body: "{\"dataset\":\"mnist\"}") {
            case .failure(let problem): return (.fail, problem.description)
            case .success(let response) where response.status != .notFound:
                return (.fail, "POST \(path) answered \(response.status.code), not 404: \(response.text.prefix(200))")
            case .success: continue
            }
        }
        return (.pass, "both 404")
    }

    private func badInput() async -> (CheckOutcome, String) {
        let cases: [(String, String, String)] = [
            ("{\"dataset\":\"cifar\"}", "application/json", "an unknown dataset"),
            ("{\"dataset\":", "application/json", "broken JSON"),
            ("{\"dataset\":\"mnist\"}", "text/plain", "the wrong content type"),
        ]
        var seen: [String] = []
        for (body, contentType, what) in cases {
            switch await post("/free", body: body, contentType: contentType) {
            case .failure(let problem): return (.fail, problem.description)
            case .success(let response):
                let isJSON = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] != nil
                guard (400..<500).contains(response.status.code), isJSON else {
                    return (
                        .fail,
                        "\(what) got \(response.status.code): \(response.text.prefix(200)); expected a 4xx JSON error"
                    )
                }
                seen.append("\(response.status.code)")
            }
        }
        return (.pass, "answered \(seen.joined(separator: ", "))")
    }

    private func freeBurst() async -> (CheckOutcome, String) {
        var names: [String] = []
        for result in await withTaskGroup(
            of: Result<String, Problem>.self,
            body: { group in
                for _ in 0..<6 { group.addTask { await submit(tier: "free", dataset: "mnist") } }
                return await group.reduce(into: []) { $0.append($1) }
            })
        {
            switch result {
            case .success(let name): names.append(name)
            case .failure(let problem): return (.fail, "a burst request failed: \(problem)")
            }
        }
        let deadline = ContinuousClock.now + target.jobDeadline
        var peak = 0
        var last = ""
        while ContinuousClock.now < deadline {
            guard case .success(let body) = await graderJSON("/free/jobs") else {
                try? await Task.sleep(for: .milliseconds(250))
                continue
            }
            let jobs = (body["jobs"] as? [[String: Any]] ?? []).filter { names.contains($0["name"] as? String ?? "") }
            let running = (body["jobs"] as? [[String: Any]] ?? []).flatMap { $0["pods"] as? [[String: Any]] ?? [] }
                .filter { ["Pending", "Running"].contains($0["phase"] as? String ?? "") }.count
            peak = max(peak, running)
            let states = jobs.map { $0["status"] as? String ?? "?" }
            last = "jobs: \(states.joined(separator: ", ")); pods live now: \(running); peak: \(peak)"
            if peak > 2 { return (.fail, "\(peak) pods ran at once on the free tier; its quota allows 2. \(last)") }
            if states.contains("failed") { return (.fail, "a burst job failed. \(last)") }
            if jobs.count == 6, states.allSatisfy({ $0 == "succeeded" }) {
                return (.pass, "all 6 succeeded; at most \(peak) pods at once")
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return (.timeout, "not all 6 finished within \(target.jobDeadline). \(last)")
    }

    private func auditRecorded(since started: Date) -> (CheckOutcome, String) {
        guard let path = target.auditDatabase else {
            return (.skipped, "no audit database on this machine; run `grader audit --since ...` on the grader's host")
        }
        do throws(AuditError) {
            let store = try AuditStore(path: path)
            let rows = try store.records(matching: AuditFilter(since: started.addingTimeInterval(-1), limit: 1_000_000))
            let ours = rows.filter { !$0.entry.principal.isEmpty && $0.entry.status == 200 }.count
            let answered = graderAnswers.value.load(ordering: .relaxed)
            guard ours >= answered else {
                return (
                    .fail,
                    "the grader answered \(answered) requests during this run but its trail holds \(ours) rows for them"
                )
            }
            let verification = try store.verify()
            guard verification.isValid else {
                return (.fail, "the audit chain is broken: \(verification.firstBreak.map(\.description) ?? "unknown")")
            }
            return (
                .pass,
                "\(ours) rows for the \(answered) grader answers of this run; chain of \(verification.checkedRows) rows verifies"
            )
        } catch {
            return (.fail, "cannot read the audit database \(path): \(error)")
        }
    }

    // MARK: - Helpers

    /// Why a call did not give the answer a check needs.
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    private func submit(tier: String, dataset: String) async -> Result<String, Problem> {
        switch await post("/\(tier)", body: "{\"dataset\":\"\(dataset)\"}") {
        case .failure(let problem): return .failure(problem)
        case .success(let response):
            guard response.status == .ok,
                let body = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                let name = body["job_name"] as? String, body["status"] as? String == "submitted"
            else {
                return .failure(
                    Problem(description: "POST /\(tier) answered \(response.status.code): \(response.text.prefix(300))")
                )
            }
            return .success(name)
        }
    }

    private func post(
        _ path: String, body: String, contentType: String = "application/json"
    ) async -> Result<HTTPClientResponse, Problem> {
        var request = HTTPClientRequest(method: .post, url: target.gateway + path)
        request.headers["content-type"] = contentType
        request.body = Array(body.utf8)
        do {
            return .success(try await client.send(request))
        } catch {
            return .failure(Problem(description: "POST \(target.gateway)\(path): \(error)"))
        }
    }

    private func graderJSON(_ path: String) async -> Result<[String: Any], Problem> {
        var request = HTTPClientRequest(url: target.grader + path)
        request.setBearerToken(target.graderToken)
        do {
            let response = try await client.send(request)
            if response.status == .ok { graderAnswers.value.add(1, ordering: .relaxed) }
            guard response.status == .ok,
                let body = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            else {
                return .failure(
                    Problem(
                        description:
                            "GET \(path) on the grader answered \(response.status.code): \(response.text.prefix(300))"))
            }
            return .success(body)
        } catch {
            return .failure(Problem(description: "GET \(target.grader)\(path): \(error)"))
        }
    }

    /// Polls the grader until the Job succeeds (pass), fails (fail, with its logs) or the deadline passes.
    private func waitForJob(_ name: String, tier: String) async -> (CheckOutcome, String) {
        let deadline = ContinuousClock.now + target.jobDeadline
        var last = "no answer yet"
        while ContinuousClock.now < deadline {
            switch await graderJSON("/\(tier)/jobs/\(name)") {
            case .failure(let problem): last = problem.description
            case .success(let body):
                let status = body["status"] as? String ?? "?"
                last = "\(name) is \(status)"
                if status == "succeeded" { return (.pass, "\(name) succeeded") }
                if status == "failed" {
                    let logs = await graderJSON("/\(tier)/jobs/\(name)/logs?tail=20")
                    let text = (try? logs.get()["log"] as? String) ?? "(no logs)"
                    return (.fail, "\(name) failed: \(body["status_reason"] ?? "")\nlogs:\n\(text)")
                }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return (.timeout, "\(name) did not finish within \(target.jobDeadline); last seen: \(last)")
    }
}
