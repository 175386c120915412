import Foundation
import Kubernetes
import Testing

@testable import LocalCluster

/// ResourceQuota admission and the Job controller's retries, end to end.
@Suite struct QuotaTests {
    @Test("six Jobs at once under a 2-pod quota never have more than two live pods, and all six succeed")
    func sixJobsTwoSlots() async throws {
        try await withCluster { cluster in
            // 1. Six Jobs at once; each pod takes a while so they overlap.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        try await cluster.createJob(
                            shellJob("burst-\(index)", script: "echo started; sleep 0.3; echo done"),
                            namespace: "free-service")
                    }
                }
                try await group.waitForAll()
            }

            // 2. All finish, all succeed.
            let finished = try await cluster.waitUntil(timeout: .seconds(60)) {
                var all = true
                for index in 0..<6 where try await !cluster.jobFinished("burst-\(index)", namespace: "free-service") {
                    all = false
                }
                return all
            }
            #expect(finished)
            for index in 0..<6 {
                let job = try await cluster.job("burst-\(index)", namespace: "free-service")
                #expect(
                    job.value(atPath: "status.succeeded") == .integer(1), "burst-\(index): \(job["status"] ?? .null)")
            }

            // 3. From the cluster's own change log: at no commit were more than two pods non-terminal.
            var live: Set<String> = []
            var peak = 0
            for change in try cluster.cluster.podChanges(namespace: "free-service") {
                if change.type == "DELETED" || change.phase == "Succeeded" || change.phase == "Failed" {
                    live.remove(change.name)
                } else {
                    live.insert(change.name)
                }
                peak = max(peak, live.count)
            }
            #expect(peak == 2, "the quota allows two pods at a time and six Jobs should fill both")

            // 4. The refusals were reported on the Jobs, and usage is back to zero.
            let events = try await cluster.request(
                .get, "/api/v1/namespaces/free-service/events?fieldSelector=reason%3DFailedCreate")
            let messages = (events.json["items"]?.arrayValue ?? []).compactMap { $0["message"]?.stringValue }
            #expect(!messages.isEmpty)
            #expect(messages.allSatisfy { $0.contains("exceeded quota: free-tier-quota, requested: ") })
            let quota = try await cluster.request(
                .get, "/api/v1/namespaces/free-service/resourcequotas/free-tier-quota")
            #expect(quota.json.value(atPath: "status.used.pods") == "0")
            #expect(quota.json.value(atPath: "status.hard.pods") == "2")
        }
    }

    @Test("a pod over quota is refused with the admission plugin's message")
    func directPodRefused() async throws {
        try await withCluster { cluster in
            func pod(_ name: String, cpu: String) -> JSONValue {
                .object([
                    "apiVersion": "v1", "kind": "Pod", "metadata": .object(["name": .string(name)]),
                    "spec": .object([
                        "activeDeadlineSeconds": .integer(60), "restartPolicy": "Never",
                        "containers": .array([
                            .object([
                                "name": "main", "image": "busybox", "command": .array(["/bin/sh", "-c", "sleep 5"]),
                                "resources": .object([
                                    "requests": .object(["cpu": .string(cpu)]),
                                    "limits": .object(["cpu": .string(cpu)]),
                                ]),
                            ])
                        ]),
                    ]),
                ])
            }
            let first = try await cluster.request(
                .post, "/api/v1/namespaces/free-service/pods", body: pod("one", cpu: "1"))
            #expect(first.status == 201)
            // The namespace's LimitRange fills memory (256Mi requested, 512Mi limit), so the pod is Burstable.
            #expect(first.json.value(atPath: "status.qosClass") == "Burstable")
            let memory = first.json.value(atPath: "spec.containers")?.arrayValue?.first?.value(
                atPath: "resources.limits.memory")
            #expect(memory == "512Mi")
            let second = try await cluster.request(
                .post, "/api/v1/namespaces/free-service/pods", body: pod("two", cpu: "1000m"))
            #expect(second.status == 201)
            let third = try await cluster.request(
                .post, "/api/v1/namespaces/free-service/pods", body: pod("three", cpu: "500m"))
            #expect(third.status == 403)
            #expect(
                third.json["message"]
                    == "pods \"three\" is forbidden: exceeded quota: free-tier-quota, requested: limits.cpu=500m,pods=1,requests.cpu=500m, used: limits.cpu=2,pods=2,requests.cpu=2, limited: limits.cpu=2,pods=2,requests.cpu=2"
            )
            let used = try await cluster.request(.get, "/api/v1/namespaces/free-service/resourcequotas/free-tier-quota")
            #expect(used.json.value(atPath: "status.used.requests.cpu") == nil)
            #expect(used.json.value(atPath: "status.used")?["requests.cpu"] == "2")
        }
    }
}

/// The quota arithmetic alone.
@Suite struct QuotaEvaluatorTests {
    private func pod(requests: [String: String]?, limits: [String: String]?, deadline: Int64? = 60) -> JSONValue {
        var resources: [String: JSONValue] = [:]
        if let requests { resources["requests"] = JSONValue(stringMap: requests) }
        if let limits { resources["limits"] = JSONValue(stringMap: limits) }
        var spec: [String: JSONValue] = [
            "containers": .array([.object(["name": "main", "resources": .object(resources)])])
        ]
        if let deadline { spec["activeDeadlineSeconds"] = .integer(deadline) }
        return .object(["spec": .object(spec), "status": .object(["phase": "Running"])])
    }

    @Test("usage sums requests and limits as quantities")
    func usage() throws {
        let usage = QuotaEvaluator.usage(
            ofPod: pod(requests: ["cpu": "500m", "memory": "256Mi"], limits: ["cpu": "1", "memory": "0.5Gi"]))
        #expect(usage["pods"] == Quantity(integer: 1))
        #expect(usage["requests.cpu"] == (try Quantity("0.5")))
        #expect(usage["limits.memory"] == (try Quantity("512Mi")))
        #expect(usage["memory"] == (try Quantity("268435456")))
    }

    @Test("scopes: Terminating pods set activeDeadlineSeconds, NotTerminating ones do not")
    func scopes() {
        let terminating = pod(requests: nil, limits: nil, deadline: 30)
        let longRunning = pod(requests: nil, limits: nil, deadline: nil)
        #expect(QuotaEvaluator.pod(terminating, matches: ["Terminating"]))
        #expect(!QuotaEvaluator.pod(longRunning, matches: ["Terminating"]))
        #expect(QuotaEvaluator.pod(longRunning, matches: ["NotTerminating"]))
        #expect(QuotaEvaluator.pod(longRunning, matches: ["BestEffort"]))
        #expect(QuotaEvaluator.pod(terminating, matches: []))
    }

    @Test("exceeding names only the exceeded resources; fitting exactly is allowed")
    func exceeded() throws {
        let quota = QuotaEvaluator.Quota(
            name: "q",
            hard: ["pods": try Quantity("2"), "requests.cpu": try Quantity("2"), "limits.memory": try Quantity("1Gi")])
        let requested = QuotaEvaluator.usage(ofPod: pod(requests: ["cpu": "1"], limits: ["memory": "512Mi"]))
        let fits = QuotaEvaluator.exceeded(
            quota: quota,
            used: [
                "pods": try Quantity("1"), "requests.cpu": try Quantity("1000m"),
                "limits.memory": try Quantity("512Mi"),
            ],
            requested: requested)
        #expect(fits == nil)
        let over = QuotaEvaluator.exceeded(
            quota: quota,
            used: ["pods": try Quantity("1"), "requests.cpu": try Quantity("1001m"), "limits.memory": .zero],
            requested: requested)
        #expect(
            over == "exceeded quota: q, requested: requests.cpu=1, used: requests.cpu=1001m, limited: requests.cpu=2")
    }

    @Test("terminal pods free their share and pods outside the scope are not counted")
    func usedSkipsTerminal() throws {
        let quota = QuotaEvaluator.Quota(
            name: "q", hard: ["pods": try Quantity("5"), "requests.cpu": try Quantity("5")], scopes: ["Terminating"])
        var done = pod(requests: ["cpu": "1"], limits: nil)
        done.set("status", .object(["phase": "Succeeded"]))
        let pods = [
            pod(requests: ["cpu": "1"], limits: nil), done, pod(requests: ["cpu": "2"], limits: nil, deadline: nil),
        ]
        let used = QuotaEvaluator.used(by: pods, objectCounts: [:], quota: quota)
        #expect(used["pods"] == Quantity(integer: 1))
        #expect(used["requests.cpu"] == Quantity(integer: 1))
    }

    @Test("a pod without a capped request is named with its containers")
    func missing() throws {
        let hard = ["requests.cpu": try Quantity("2"), "limits.cpu": try Quantity("2"), "pods": try Quantity("2")]
        let missing = QuotaEvaluator.missingResources(pod(requests: ["cpu": "1"], limits: nil), hard: hard)
        #expect(missing.map(\.resource) == ["limits.cpu"])
        #expect(
            QuotaEvaluator.missingMessage(quota: "q", missing: missing)
                == "failed quota: q: must specify limits.cpu for: main")
    }
}
