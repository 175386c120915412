import Audit
import Foundation
import HTTPServer
import HTTPTypes
import Kubernetes
import SQLite
import Testing

@testable import Grader

@Suite struct GraderEndpointTests {
    @Test("/healthz answers without a token and without a cluster")
    func health() async throws {
        try await Harness.run(clusterURL: "http://127.0.0.1:9") { (harness) async throws in
            let response = await harness.request("/healthz", token: .some(nil))
            #expect(response.status == .ok)
            #expect(try body(response)["status"]?.string == "ok")
            #expect(try harness.lastRecord().entry.principal == "")
        }
    }

    @Test("/free/resource-quota reports hard and used as strings and numbers, with the data's age")
    func quota() async throws {
        try await Harness.run { (harness) async throws in
            harness.cluster.update { $0.quotas["free-tier-quota"] = Objects.quota() }
            let response = await harness.request("/free/resource-quota")
            #expect(response.status == .ok)
            #expect(response.headers["Content-Type"] == "application/json")
            let json = try body(response)
            #expect(json["namespace"]?.string == "free-service")
            #expect(json["quota"]?.string == "free-tier-quota")
            #expect(json["hard"]?["pods"]?.string == "2")
            #expect(json["used"]?["requests.cpu"]?.string == "500m")
            #expect(json["used_values"]?["requests.cpu"]?.number == 0.5)
            #expect(json["hard_values"]?["limits.cpu"]?.number == 2)
            #expect(json["data_age_ms"]?.number == 0)

            let record = try harness.lastRecord().entry
            #expect(record.principal == "autograder")
            #expect(
                [record.tier, record.namespace, record.kind, record.name]
                    == ["free", "free-service", "ResourceQuota", "free-tier-quota"])
        }
    }

    /// A Job, its pods, and the status the grader must give, named for the test report.
    struct StatusCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var job: Job
        var pods: [Pod]
        var expected: JobPhase

        init(_ description: String, _ job: Job, _ pods: [Pod], _ expected: JobPhase) {
            self.testDescription = description
            self.job = job
            self.pods = pods
            self.expected = expected
        }
    }

    static let statusCases: [StatusCase] = [
        StatusCase("just created, no pods", Objects.job("j-new", started: false), [], .pending),
        StatusCase(
            "pod scheduled, container creating", Objects.job("j-creating", active: 1),
            [Objects.pod("j-creating-abcde", of: "j-creating", phase: .pending, waiting: "ContainerCreating")],
            .pending
        ),
        StatusCase(
            "pod running", Objects.job("j-running", active: 1),
            [Objects.pod("j-running-abcde", of: "j-running", phase: .running)], .running
        ),
        StatusCase(
            "a pod failed, no Failed condition: retrying", Objects.job("j-retrying", failed: 1),
            [Objects.pod("j-retrying-abcde", of: "j-retrying", phase: .failed, exitCode: 1)], .running
        ),
        StatusCase(
            "Failed condition",
            Objects.job(
                "j-failed", failed: 3,
                conditions: [
                    JobCondition(type: "FailureTarget", reason: "BackoffLimitExceeded"),
                    JobCondition(type: "Failed", reason: "BackoffLimitExceeded"),
                ]),
            [Objects.pod("j-failed-abcde", of: "j-failed", phase: .failed, exitCode: 1)], .failed
        ),
        StatusCase(
            "Complete condition",
            Objects.job(
                "j-done", succeeded: 1,
                conditions: [
                    JobCondition(type: "SuccessCriteriaMet"), JobCondition(type: "Complete"),
                ]),
            [Objects.pod("j-done-abcde", of: "j-done", phase: .succeeded, exitCode: 0)], .succeeded
        ),
        StatusCase(
            "a False Failed condition is not a failure",
            Objects.job(
                "j-false", active: 1,
                conditions: [
                    JobCondition(type: "Failed", status: "False")
                ]),
            [Objects.pod("j-false-abcde", of: "j-false", phase: .running)], .running
        ),
    ]

    @Test("a Job's status follows its conditions and pods", arguments: statusCases)
    func jobStatus(_ statusCase: StatusCase) async throws {
        let (description, job, pods, expected) = (
            statusCase.testDescription, statusCase.job, statusCase.pods, statusCase.expected
        )
        try await Harness.run { (harness) async throws in
            harness.cluster.update {
                $0.jobs["free-service"] = [job]
                $0.pods["free-service"] = pods
            }
            let name = try #require(job.metadata.name)
            let detail = try body(await harness.request("/free/jobs/\(name)"))
            #expect(detail["status"]?.string == expected.rawValue, "\(description)")
            #expect(detail["name"]?.string == name)
            #expect(detail["tier"]?.string == "free")
            #expect(detail["namespace"]?.string == "free-service")
            #expect(detail["data_age_ms"]?.number == 0)
            #expect(detail["status_reason"]?.string?.isEmpty == false)
            #expect(detail["conditions"]?.items.count == job.status?.conditions?.count ?? 0)

            let list = try body(await harness.request("/free/jobs"))
            #expect(list["jobs"]?.items.first?["status"]?.string == expected.rawValue, "\(description)")
        }
    }

    @Test("/free/jobs lists every Job with its times and its pods' phases and exit codes")
    func jobList() async throws {
        try await Harness.run { (harness) async throws in
            harness.cluster.update {
                $0.jobs["free-service"] = [
                    Objects.job("second", failed: 1, order: 2),
                    Objects.job("first", succeeded: 1, conditions: [JobCondition(type: "Complete")], order: 1),
                ]
                $0.pods["free-service"] = [
                    Objects.pod("first-aaaaa", of: "first", phase: .succeeded, exitCode: 0),
                    Objects.pod("second-bbbbb", of: "second", phase: .failed, exitCode: 137, order: 1),
                    Objects.pod("second-ccccc", of: "second", phase: .running, order: 2),
                    Objects.pod("free-tier-12345", of: "not-a-job", phase: .running),
                ]
            }
            let response = await harness.request("/free/jobs")
            #expect(response.status == .ok)
            let json = try body(response)
            #expect(json["tier"]?.string == "free")
            #expect(json["data_age_ms"]?.number == 0)
            let jobs = try #require(json["jobs"]?.items)
            #expect(jobs.compactMap { $0["name"]?.string } == ["first", "second"])
            #expect(jobs[0]["status"]?.string == "succeeded")
            #expect(jobs[0]["start_time"]?.string == "2027-01-15T08:00:02Z")
            #expect(jobs[0]["completion_time"]?.string == "2027-01-15T08:00:31Z")
            #expect(jobs[1]["completion_time"]?.isNull == true)

            let pods = try #require(jobs[1]["pods"]?.items)
            #expect(pods.compactMap { $0["name"]?.string } == ["second-bbbbb", "second-ccccc"])
            #expect(pods[0]["phase"]?.string == "Failed")
            #expect(pods[0]["exit_code"]?.number == 137)
            #expect(pods[1]["phase"]?.string == "Running")
            #expect(pods[1]["exit_code"]?.isNull == true)
            #expect(jobs[1]["status"]?.string == "running")
        }
    }

    @Test("a Job that does not exist is 404")
    func missingJob() async throws {
        try await Harness.run { (harness) async throws in
            let response = await harness.request("/free/jobs/nope")
            #expect(response.status == .notFound)
            #expect(try body(response)["reason"]?.string == "NotFound")
        }
    }

    @Test("logs of the newest pod, with ?tail= passed to the API")
    func logsWithTail() async throws {
        try await Harness.run { (harness) async throws in
            harness.cluster.update {
                $0.jobs["free-service"] = [Objects.job("train", failed: 1)]
                $0.pods["free-service"] = [
                    Objects.pod("train-old00", of: "train", phase: .failed, exitCode: 1, order: 1),
                    Objects.pod("train-new00", of: "train", phase: .running, order: 2),
                ]
                $0.logs["train-old00"] = "crashed\n"
                $0.logs["train-new00"] = "epoch 1\nepoch 2\nepoch 3\n"
            }
            let response = await harness.request("/free/jobs/train/logs", query: ["tail": "2"])
            #expect(response.status == .ok)
            let json = try body(response)
            #expect(json["status"]?.string == "available")
            #expect(json["pod"]?.string == "train-new00")
            #expect(json["log"]?.string == "epoch 2\nepoch 3\n")
            #expect(json["tail"]?.number == 2)
            #expect(json["job_status"]?.string == "running")
            let logCall = try #require(harness.cluster.requests.last)
            #expect(logCall.path == "/api/v1/namespaces/free-service/pods/train-new00/log")
            #expect(logCall.queryValue("tailLines") == "2")
            #expect(try harness.lastRecord().entry.kind == "Pod/log")
            #expect(try harness.lastRecord().entry.name == "train-new00")

            let older = try body(await harness.request("/free/jobs/train/logs", query: ["pod": "train-old00"]))
            #expect(older["log"]?.string == "crashed\n")

            let stranger = await harness.request("/free/jobs/train/logs", query: ["pod": "other-pod"])
            #expect(stranger.status == .notFound)
        }
    }

    @Test("logs of a Job whose pod has not started are a 200 pending answer, without a log call")
    func pendingLogs() async throws {
        try await Harness.run { (harness) async throws in
            harness.cluster.update {
                $0.jobs["free-service"] = [Objects.job("fresh", started: false), Objects.job("creating", active: 1)]
                $0.pods["free-service"] = [
                    Objects.pod("creating-abcde", of: "creating", phase: .pending, waiting: "ContainerCreating")
                ]
            }
            let none = await harness.request("/free/jobs/fresh/logs")
            #expect(none.status == .ok)
            let noneJSON = try body(none)
            #expect(noneJSON["status"]?.string == "pending")
            #expect(noneJSON["pod"]?.isNull == true)
            #expect(noneJSON["message"]?.string?.contains("no pod yet") == true)

            let creating = try body(await harness.request("/free/jobs/creating/logs"))
            #expect(creating["status"]?.string == "pending")
            #expect(creating["pod"]?.string == "creating-abcde")
            #expect(creating["message"]?.string?.contains("ContainerCreating") == true)
            #expect(creating["log"]?.isNull == true)
            #expect(!harness.cluster.requests.contains { $0.path.hasSuffix("/log") })
        }
    }

    @Test(
        "?tail= must be a whole number from 1 to 10000, checked before any cluster call",
        arguments: ["0", "-3", "ten", "10001", "", "1.5"])
    func badTail(tail: String) async throws {
        try await Harness.run { (harness) async throws in
            let response = await harness.request("/free/jobs/train/logs", query: ["tail": tail])
            #expect(response.status == .badRequest)
            #expect(try body(response)["error"]?.string?.contains("tail=") == true)
            #expect(harness.cluster.requests.isEmpty)
        }
    }

    @Test("a pod with several containers has its log read from the default container, as kubectl does")
    func logContainer() {
        var pod = Objects.pod("multi-abcde", of: "multi", phase: .running)
        #expect(Grader.logContainer(of: pod) == nil)
        pod.spec?.containers = [Container(name: "sidecar"), Container(name: "job")]
        #expect(Grader.logContainer(of: pod) == "sidecar")
        pod.metadata.annotations = ["kubectl.kubernetes.io/default-container": "job"]
        #expect(Grader.logContainer(of: pod) == "job")
    }

    @Test("an unknown query parameter is 400, not silently ignored")
    func unknownQuery() async throws {
        try await Harness.run { (harness) async throws in
            let response = await harness.request("/free/jobs/train/logs", query: ["tial": "5"])
            #expect(response.status == .badRequest)
            #expect(harness.cluster.requests.isEmpty)
        }
    }
}

@Suite struct GraderRefusalTests {
    @Test(
        "no token or a wrong one is 401 with WWW-Authenticate, audited with an empty principal",
        arguments: [nil, "not-the-token", String(repeating: "0", count: 64)])
    func unauthorized(token: String?) async throws {
        try await Harness.run { (harness) async throws in
            let response = await harness.request("/free/jobs", token: .some(token))
            #expect(response.status == .unauthorized)
            #expect(response.headers["WWW-Authenticate"]?.hasPrefix("Bearer") == true)
            #expect(try body(response)["reason"]?.string == "Unauthorized")
            let record = try harness.lastRecord().entry
            #expect(record.status == 401)
            #expect(record.principal == "")
            #expect(record.path == "/free/jobs")
            #expect(record.userAgent == "grader-tests")
            #expect(harness.cluster.requests.isEmpty)
        }
    }

    @Test("a token in the wrong scheme is 401")
    func basicScheme() async throws {
        try await Harness.run { (harness) async throws in
            var headers: HTTPHeaders = [:]
            headers["Authorization"] = "Basic \(harness.token)"
            let response = await harness.grader.handle(HTTPRequest(method: .get, path: "/free/jobs", headers: headers))
            #expect(response.status == .unauthorized)
        }
    }

    @Test("mutating methods are 405 with Allow: GET, and audited", arguments: ["POST", "PUT", "PATCH", "DELETE"])
    func mutating(method: String) async throws {
        try await Harness.run { (harness) async throws in
            let response = await harness.request("/free/jobs", method: HTTPMethod(rawValue: method))
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers["Allow"] == "GET")
            #expect(try body(response)["reason"]?.string == "MethodNotAllowed")
            let record = try harness.lastRecord().entry
            #expect(record.method == method)
            #expect(record.status == 405)
            #expect(record.principal == "autograder")
            #expect(harness.cluster.requests.isEmpty)
        }
    }

    @Test(
        "unknown tiers and endpoints are 404 JSON; no path names a namespace",
        arguments: ["/gold/jobs", "/free-service/jobs", "/free", "/free/pods", "/free/jobs/a/b", "/", "/free//jobs"])
    func notFound(path: String) async throws {
        try await Harness.run { (harness) async throws in
            let response = await harness.request(path)
            #expect(response.status == .notFound)
            #expect(try body(response)["reason"]?.string == "NotFound")
            #expect(try harness.lastRecord().entry.status == 404)
            #expect(harness.cluster.requests.isEmpty)
        }
    }

    @Test(
        "a job name that is not a DNS-1123 label is 400 before any cluster call",
        arguments: [
            "Bad_Name", "-leading", "trailing-", "UPPER", "a.b", "%2e%2e", "..", String(repeating: "a", count: 64),
        ])
    func invalidJobName(name: String) async throws {
        try await Harness.run { (harness) async throws in
            for path in ["/free/jobs/\(name)", "/free/jobs/\(name)/logs"] {
                let response = await harness.request(path)
                #expect(response.status == .badRequest, "\(path)")
                #expect(try body(response)["reason"]?.string == "BadRequest")
            }
            #expect(harness.cluster.requests.isEmpty)
        }
    }

    @Test("an unreachable cluster is a 503 JSON answer within the call timeout", arguments: ["refused", "stalled"])
    func unreachable(kind: String) async throws {
        // Port 9 refuses at once; the stalled server accepts and never answers, so only the timeout ends it.
        let stalled = kind == "stalled"
        try await Harness.run(clusterURL: stalled ? nil : "http://127.0.0.1:9") { (harness) async throws in
            if stalled { harness.cluster.update { $0.stalls = true } }
            for path in ["/free/jobs", "/free/resource-quota", "/free/jobs/train/logs"] {
                let started = ContinuousClock.now
                let response = await harness.request(path)
                // The timeout is 1.5 s; the bound leaves seconds of margin for a loaded machine.
                #expect(ContinuousClock.now - started < .seconds(5), "\(path)")
                #expect(response.status == .serviceUnavailable, "\(path)")
                #expect(try body(response)["reason"]?.string == "ClusterUnavailable")
            }
        }
    }

    @Test("the cluster refusing the grader's own read (RBAC) is a 502 naming the fix")
    func forbidden() async throws {
        let api = try HTTPServer(configuration: .init(shutdownGracePeriod: .milliseconds(200))) { _ in
            .json(
                Status(
                    code: 403, reason: "Forbidden",
                    message: "jobs.batch is forbidden: User \"system:serviceaccount:grader:grader\" cannot list"),
                status: .forbidden)
        }
        do {
            try await Harness.run(clusterURL: "http://127.0.0.1:\(api.port)") { (harness) async throws in
                let response = await harness.request("/free/jobs")
                #expect(response.status == .badGateway)
                let json = try body(response)
                #expect(json["reason"]?.string == "ClusterRefused")
                #expect(json["error"]?.string?.contains("Role") == true)
            }
        } catch {
            await api.stop()
            throw error
        }
        await api.stop()
    }
}

@Suite struct GraderCacheAndAuditTests {
    @Test("cached state is reused within its maximum age and reports how old it is")
    func cacheAge() async throws {
        let clock = ManualClock()
        try await Harness.run(cacheMaxAge: .seconds(60), clock: clock) { (harness) async throws in
            harness.cluster.update { $0.jobs["free-service"] = [Objects.job("cached")] }
            let first = try body(await harness.request("/free/jobs"))
            #expect(first["data_age_ms"]?.number == 0)
            clock.advance(milliseconds: 250)
            let second = try body(await harness.request("/free/jobs/cached"))
            #expect(second["data_age_ms"]?.number == 250)
            let jobLists = harness.cluster.requests.filter { $0.path.hasSuffix("/jobs") }
            #expect(jobLists.count == 1)

            // Past the maximum age, the state is read again.
            clock.advance(milliseconds: 60_000)
            let third = try body(await harness.request("/free/jobs"))
            #expect(third["data_age_ms"]?.number == 0)
            #expect(harness.cluster.requests.filter { $0.path.hasSuffix("/jobs") }.count == 2)
        }
    }

    @Test("concurrent requests are each audited once and the chain stays valid")
    func concurrentRequestsAudited() async throws {
        try await Harness.run { (harness) async throws in
            harness.cluster.update { $0.jobs["free-service"] = [Objects.job("a")] }
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<60 {
                    group.addTask {
                        let path = ["/free/jobs", "/free/jobs/a", "/nope/jobs"][index % 3]
                        _ = await harness.request(path, token: index % 4 == 0 ? .some(nil) : .none)
                    }
                }
            }
            #expect(try harness.audit.count() == 60)
            #expect(try harness.audit.verify().isValid)
            let statuses = try harness.audit.records(matching: AuditFilter(limit: 100)).map(\.entry.status)
            #expect(statuses.count { $0 == 401 } == 15)
        }
    }

    @Test("a request the audit trail cannot record is not answered with data")
    func auditFailureFailsClosed() async throws {
        try await Harness.run(auditBusyTimeout: .milliseconds(100)) { (harness) async throws in
            harness.cluster.update { $0.jobs["free-service"] = [Objects.job("a")] }
            // Another connection holding the write lock past the busy timeout makes appends fail.
            let lock = try SQLiteDatabase(path: harness.audit.path)
            try lock.execute("BEGIN EXCLUSIVE")
            defer { try? lock.execute("ROLLBACK") }
            let response = await harness.request("/free/jobs")
            #expect(response.status == .serviceUnavailable)
            #expect(try body(response)["reason"]?.string == "AuditUnavailable")
        }
    }

    @Test("the request id is taken from x-request-id when well formed and returned")
    func requestID() async throws {
        try await Harness.run { (harness) async throws in
            var headers: HTTPHeaders = ["Authorization": "Bearer \(harness.token)"]
            headers["x-request-id"] = "grade-run-42"
            let response = await harness.grader.handle(HTTPRequest(method: .get, path: "/healthz", headers: headers))
            #expect(response.headers["x-request-id"] == "grade-run-42")
            #expect(try harness.lastRecord().entry.requestID == "grade-run-42")
        }
    }
}
