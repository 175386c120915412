import Foundation
import HTTPClient
import Kubernetes
import KubernetesClient
import Logging
import Stack
import Synchronization
import Testing

/// The whole stack as a user runs it, every piece its own process on free loopback ports, exercised
/// through the gateway only, with the real models and data.
@Suite(.serialized) struct StackTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Brings a stack up in a fresh state directory, runs `body`, and always takes it down.
    func withStack(_ body: (Stack) async throws -> Void) async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tierserve-stack-\(UUID().uuidString)")
        let binaries = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let data = ProcessInfo.processInfo.environment["TIERSERVE_DATA_DIR"].map { URL(fileURLWithPath: $0) }
        let stack = try await Stack.up(
            Stack.Configuration(
                repository: Self.repository,
                binaries: FileManager.default.isExecutableFile(atPath: binaries.appendingPathComponent("tier").path)
                    ? binaries : Self.repository.appendingPathComponent(".build/debug"),
                stateDirectory: state, dataDirectory: data, gatewayPort: 0, clusterPort: 0, freePort: 0,
                premiumPort: 0, graderPort: 0, logger: Logger(label: "stack", level: .error)))
        do {
            try await body(stack)
        } catch {
            await stack.down()
            try? FileManager.default.removeItem(at: state)
            throw error
        }
        await stack.down()
        try? FileManager.default.removeItem(at: state)
    }

    func client(_ stack: Stack, tokenFile: String) throws -> KubernetesClient {
        var configuration = KubernetesConfiguration(
            server: stack.addresses.cluster,
            certificateAuthorityPEM: [UInt8](try Data(contentsOf: URL(fileURLWithPath: stack.addresses.caFile))))
        configuration.credentials = .tokenFile(path: tokenFile)
        return KubernetesClient(configuration: configuration, timeout: .seconds(15))
    }

    func submit(_ stack: Stack, tier: String, dataset: String) async throws -> String {
        var request = HTTPClientRequest(method: .post, url: "\(stack.addresses.gateway)/\(tier)", timeout: .seconds(30))
        request.headers["content-type"] = "application/json"
        request.body = Array("{\"dataset\":\"\(dataset)\"}".utf8)
        let response = try await HTTPClient().send(request)
        #expect(response.status == .ok, "\(response.text)")
        let body = try JSONDecoder().decode([String: String].self, from: Data(response.body))
        #expect(body["status"] == "submitted")
        return try #require(body["job_name"])
    }

    /// Polls until the Job has a Complete or Failed condition; returns whether it completed.
    func waitForJob(_ name: String, in namespace: String, client: KubernetesClient) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let job = try await client.job(named: name, in: namespace)
            for condition in job.status?.conditions ?? [] where condition.status == "True" {
                if condition.type == "Complete" { return true }
                if condition.type == "Failed" { return false }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("job \(namespace)/\(name) did not finish in 120 s")
        return false
    }

    @Test("a free job and a premium job run to completion through the gateway, and the premium log holds the result")
    func bothTiers() async throws {
        try await withStack { stack in
            let admin = try client(stack, tokenFile: stack.addresses.adminTokenFile)
            let free = try await submit(stack, tier: "free", dataset: "mnist")
            let premium = try await submit(stack, tier: "premium", dataset: "kmnist")
            #expect(free.hasPrefix("free-job-") && premium.hasPrefix("premium-job-"))
            #expect(try await waitForJob(free, in: "free-service", client: admin))
            #expect(try await waitForJob(premium, in: "premium-service", client: admin))

            let pods = try await admin.pods(
                in: "premium-service", labelSelector: LabelSelectorQuery(matching: ["job-name": premium]))
            let pod = try #require(pods.first)
            let log = try await admin.log(ofPod: pod.metadata.name ?? "", in: "premium-service")
            let summary = try #require(log.split(separator: "\n").last)
            let result = try JSONSerialization.jsonObject(with: Data(summary.utf8)) as? [String: Any]
            #expect(result?["model"] as? String == "kmnist-cnn")
            #expect(result?["samples"] as? Int == 2000)
            #expect(result?["correct"] as? Int == 1964)
        }
    }

    @Test("a burst of 6 free requests never runs more than 2 pods at once, and all 6 finish")
    func freeBurst() async throws {
        try await withStack { stack in
            let admin = try client(stack, tokenFile: stack.addresses.adminTokenFile)
            // Follow every pod change in the namespace, in the order the cluster committed them.
            let highest = Mutex(0)
            let watching = Task {
                var live: Set<String> = []
                for try await change in admin.watchPods(in: "free-service") {
                    switch change {
                    case .added(let pod), .modified(let pod):
                        let name = pod.metadata.name ?? ""
                        if pod.status?.phase?.isTerminal == true { live.remove(name) } else { live.insert(name) }
                    case .deleted(let pod):
                        live.remove(pod.metadata.name ?? "")
                    case .resynced(let pods, _):
                        live = Set(pods.filter { $0.status?.phase?.isTerminal != true }.compactMap(\.metadata.name))
                    case .bookmark, .error:
                        break
                    }
                    let count = live.count
                    highest.withLock { $0 = max($0, count) }
                }
            }
            try await Task.sleep(for: .milliseconds(300))

            let names = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<6 { group.addTask { try await submit(stack, tier: "free", dataset: "mnist") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(names).count == 6)
            for name in names {
                #expect(try await waitForJob(name, in: "free-service", client: admin))
            }
            watching.cancel()
            let peak = highest.withLock { $0 }
            #expect(peak <= 2, "at most 2 pods at once under the free quota, saw \(peak)")
            #expect(peak >= 1)

            // The quota's refusals were recorded against the Jobs that had to wait.
            let events = try await admin.events(in: "free-service")
            #expect(events.contains { $0.reason == "FailedCreate" && ($0.message ?? "").contains("exceeded quota") })
        }
    }

    @Test("the free tier's token cannot create a Job in premium-service")
    func freeTokenConfined() async throws {
        try await withStack { stack in
            let tokens = URL(fileURLWithPath: stack.addresses.adminTokenFile).deletingLastPathComponent()
            let free = try client(
                stack, tokenFile: tokens.appendingPathComponent("serviceaccounts/free-service/free-tier/token").path)
            var job = Job()
            job.metadata.name = "sneaky"
            job.spec = JobSpec(
                template: PodTemplateSpec(
                    spec: PodSpec(containers: [Container(name: "c", image: "tierserve/job:latest")])))
            let error = await #expect(throws: KubernetesClientError.self) {
                try await free.create(job: job, in: "premium-service")
            }
            #expect(error?.isForbidden == true)
            #expect(error?.status?.message?.contains("system:serviceaccount:free-service:free-tier") == true)
            #expect(
                try await free.selfSubjectAccessReview(
                    verb: "create", resource: "jobs", group: "batch", namespace: "free-service"))
        }
    }

    @Test("the grader, with its own read-only account, shows the free quota and a premium job's logs; no token is 401")
    func grader() async throws {
        try await withStack { stack in
            let grader = try #require(stack.addresses.grader)
            let token = try String(contentsOfFile: try #require(stack.addresses.graderTokenFile), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            func get(_ path: String, token: String?) async throws -> HTTPClientResponse {
                var request = HTTPClientRequest(url: "\(grader)\(path)", timeout: .seconds(30))
                if let token { request.setBearerToken(token) }
                return try await HTTPClient().send(request)
            }
            let quota = try await get("/free/resource-quota", token: token)
            #expect(quota.status == .ok, "\(quota.text)")
            let body = try JSONSerialization.jsonObject(with: Data(quota.body)) as? [String: Any]
            let hard = body?["hard"] as? [String: String]
            #expect(hard?["pods"] == "2" && hard?["requests.cpu"] == "2" && hard?["limits.cpu"] == "2")
            #expect(try await get("/free/resource-quota", token: nil).status == .unauthorized)

            let premium = try await submit(stack, tier: "premium", dataset: "kmnist")
            let admin = try client(stack, tokenFile: stack.addresses.adminTokenFile)
            #expect(try await waitForJob(premium, in: "premium-service", client: admin))
            // The grader answers from state up to two seconds old: ask until it has seen the finished Job.
            var logs = try await get("/premium/jobs/\(premium)/logs?tail=1", token: token)
            for _ in 0..<50 where logs.status != .ok || !logs.text.contains("kmnist-cnn") {
                try await Task.sleep(for: .milliseconds(200))
                logs = try await get("/premium/jobs/\(premium)/logs?tail=1", token: token)
            }
            #expect(logs.status == .ok)
            #expect(logs.text.contains("kmnist-cnn") && logs.text.contains("\\\"correct\\\":1964"), "\(logs.text)")
        }
    }

    @Test("submit's checks all pass against the stack, and it exits 0; against nothing it fails and exits 1")
    func submitChecks() async throws {
        try await withStack { stack in
            let binary = URL(fileURLWithPath: stack.configuration.binaries.appendingPathComponent("submit").path)
            let junit = stack.configuration.stateDirectory.appendingPathComponent("junit.xml")
            let passing = try runSubmit(
                binary,
                ["--state-dir", stack.configuration.stateDirectory.path, "--json", "--junit", junit.path])
            #expect(passing.status == 0, "\(passing.output)")
            let document = try JSONSerialization.jsonObject(with: Data(passing.output.utf8)) as? [String: Any]
            #expect(document?["passed"] as? Bool == true)
            let checks = document?["checks"] as? [[String: Any]] ?? []
            #expect(checks.count == 8 && checks.allSatisfy { $0["outcome"] as? String == "pass" }, "\(checks)")
            // The reference autograder's four checks, well inside 5 seconds on the local stack.
            let firstFour = checks.prefix(4).compactMap { $0["seconds"] as? Double }.reduce(0, +)
            #expect(firstFour < 5, "the four reference checks took \(firstFour) s")
            #expect(try String(contentsOf: junit, encoding: .utf8).contains("tests=\"8\" failures=\"0\""))

            let token = try #require(stack.addresses.graderTokenFile)
            let failing = try runSubmit(
                binary,
                [
                    "--gateway", "http://127.0.0.1:9", "--grader", "http://127.0.0.1:9", "--grader-token-file", token,
                    "--job-timeout", "2",
                ])
            #expect(failing.status == 1)
            #expect(failing.output.contains("0 passed, 6 failed, 2 skipped"), "\(failing.output)")
        }
    }

    /// Runs `binary` to completion; its standard output (and standard error when asked) is returned.
    func runSubmit(_ binary: URL, _ arguments: [String], standardError: Bool = false) throws -> (
        status: Int32, output: String
    ) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = standardError ? output : FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test("a second local cluster on the stack's state directory is refused instead of failing the first one's pods")
    func stateDirectoryLock() async throws {
        try await withStack { stack in
            let result = try runSubmit(
                stack.configuration.binaries.appendingPathComponent("local-cluster"),
                [
                    "--state-dir", stack.configuration.stateDirectory.appendingPathComponent("cluster").path, "--port",
                    "0",
                ],
                standardError: true)
            #expect(result.status != 0)
            #expect(result.output.contains("is in use by another local cluster"), "\(result.output)")
        }
    }

    @Test("paths that only share letters with a tier are not routed")
    func unrouted() async throws {
        try await withStack { stack in
            for path in ["/freebie", "/premiumplus"] {
                var request = HTTPClientRequest(method: .post, url: "\(stack.addresses.gateway)\(path)")
                request.headers["content-type"] = "application/json"
                request.body = Array("{\"dataset\":\"mnist\"}".utf8)
                let response = try await HTTPClient().send(request)
                #expect(response.status == .notFound)
            }
        }
    }
}
