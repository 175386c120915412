import Foundation
import HTTPClient
import HTTPTypes
import Kubernetes
import Testing

@testable import LocalCluster

/// The REST API's answers for what clients get wrong and for the less common verbs.
@Suite struct APITests {
    @Test("no token and a bad token both get 401 Unauthorized as a Status")
    func unauthorized() async throws {
        try await withCluster(manifests: false) { cluster in
            for response in [
                try await cluster.request(.get, "/api/v1/namespaces", anonymous: true),
                try await cluster.request(.get, "/api/v1/namespaces", token: "not-a-token"),
            ] {
                #expect(response.status == 401)
                #expect(response.json["kind"] == "Status")
                #expect(response.json["reason"] == "Unauthorized")
                #expect(response.json["message"] == "Unauthorized")
            }
        }
    }

    @Test("client mistakes get 400, 404 and 409 Status objects, never 500")
    func clientMistakes() async throws {
        try await withCluster { cluster in
            var request = HTTPClientRequest(
                method: .post, url: cluster.cluster.serverURL + "/apis/batch/v1/namespaces/free-service/jobs",
                headers: ["Content-Type": "application/json"], body: Array("{not json".utf8))
            request.setBearerToken(cluster.adminToken)
            let badJSON = try await cluster.client.send(request)
            #expect(badJSON.status.code == 400)
            #expect((try JSONValue(json: Data(badJSON.body)))["reason"] == "BadRequest")

            let missing = try await cluster.request(.get, "/apis/batch/v1/namespaces/free-service/jobs/nope")
            #expect(missing.status == 404)
            #expect(missing.json["message"] == "jobs.batch \"nope\" not found")
            #expect(missing.json.value(atPath: "details.kind") == "jobs")

            let noNamespace = try await cluster.request(
                .post, "/apis/batch/v1/namespaces/nowhere/jobs", body: shellJob("x", script: "true"))
            #expect(noNamespace.status == 404)
            #expect(noNamespace.json["message"] == "namespaces \"nowhere\" not found")

            try await cluster.createJob(shellJob("twice", script: "true"), namespace: "free-service")
            let again = try await cluster.request(
                .post, "/apis/batch/v1/namespaces/free-service/jobs", body: shellJob("twice", script: "true"))
            #expect(again.status == 409)
            #expect(again.json["reason"] == "AlreadyExists")
            #expect(again.json["message"] == "jobs.batch \"twice\" already exists")

            var noContainers = shellJob("empty", script: "true")
            noContainers = noContainers.applyingMergePatch(
                .object(["spec": .object(["template": .object(["spec": .object(["containers": .array([])])])])]))
            let invalid = try await cluster.request(
                .post, "/apis/batch/v1/namespaces/free-service/jobs", body: noContainers)
            #expect(invalid.status == 422)
            #expect(
                invalid.json.value(atPath: "details.causes")?.arrayValue?.first?["field"]
                    == "spec.template.spec.containers")

            let unknownPath = try await cluster.request(.get, "/apis/batch/v1/namespaces/free-service/cronjobs")
            #expect(unknownPath.status == 404)
            #expect(unknownPath.json["kind"] == "Status")
        }
    }

    @Test("generateName gets five random lowercase alphanumerics, and labels select")
    func generateNameAndSelectors() async throws {
        try await withCluster { cluster in
            var job = shellJob("", script: "true")
            job = job.applyingMergePatch(.object(["metadata": .object(["name": .null, "generateName": "gen-"])]))
            let created = try await cluster.createJob(job, namespace: "premium-service")
            let name = try #require(created.value(atPath: "metadata.name")?.stringValue)
            #expect(name.hasPrefix("gen-") && name.count == 9)
            #expect(name.dropFirst(4).allSatisfy { $0.isLowercase || $0.isNumber })

            #expect(try await cluster.waitUntil { try await cluster.jobFinished(name, namespace: "premium-service") })
            let selected = try await cluster.request(
                .get, "/api/v1/namespaces/premium-service/pods?labelSelector=job-name%3D\(name)")
            let pods = selected.json["items"]?.arrayValue ?? []
            #expect(pods.count == 1)
            let pod = try #require(pods.first)
            let podName = pod.value(atPath: "metadata.name")?.stringValue ?? ""
            #expect(podName.hasPrefix("\(name)-") && podName.count == name.count + 6)
            let labels = pod.value(atPath: "metadata.labels")?.stringMap ?? [:]
            #expect(labels["batch.kubernetes.io/job-name"] == name)
            #expect(labels["controller-uid"] == created.value(atPath: "metadata.uid")?.stringValue)
            #expect(pod.value(atPath: "metadata.ownerReferences")?.arrayValue?.first?["kind"] == "Job")
            let terminated = pod.value(atPath: "status.containerStatuses")?.arrayValue?.first?.value(
                atPath: "state.terminated")
            #expect(terminated?["exitCode"] == .integer(0))
            #expect(terminated?["startedAt"] != nil && terminated?["finishedAt"] != nil)
            let none = try await cluster.request(
                .get, "/api/v1/namespaces/premium-service/pods?labelSelector=job-name%3Dother")
            #expect(none.json["items"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test("delete with Background removes the pods, Orphan keeps them without an owner")
    func deletePropagation() async throws {
        try await withCluster { cluster in
            for name in ["background", "orphan"] {
                try await cluster.createJob(shellJob(name, script: "sleep 30"), namespace: "premium-service")
            }
            func pods(_ job: String) async throws -> [JSONValue] {
                try await cluster.request(
                    .get, "/api/v1/namespaces/premium-service/pods?labelSelector=job-name%3D\(job)"
                )
                .json["items"]?.arrayValue ?? []
            }
            #expect(
                try await cluster.waitUntil {
                    let background = try await pods("background").count
                    let orphan = try await pods("orphan").count
                    return background == 1 && orphan == 1
                })

            let background = try await cluster.request(
                .delete, "/apis/batch/v1/namespaces/premium-service/jobs/background?propagationPolicy=Background")
            #expect(background.status == 200)
            #expect(try await pods("background").isEmpty)
            let orphan = try await cluster.request(
                .delete, "/apis/batch/v1/namespaces/premium-service/jobs/orphan",
                body: .object(["kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Orphan"]))
            #expect(orphan.status == 200)
            let kept = try await pods("orphan")
            #expect(kept.count == 1)
            #expect(kept.first?.value(atPath: "metadata.ownerReferences") == nil)
            let gone = try await cluster.request(.get, "/apis/batch/v1/namespaces/premium-service/jobs/orphan")
            #expect(gone.status == 404)
        }
    }

    @Test("a failing pod is retried up to backoffLimit, then the Job fails with BackoffLimitExceeded")
    func backoffLimit() async throws {
        try await withCluster { cluster in
            try await cluster.createJob(
                shellJob("fails", script: "echo no; exit 3", backoffLimit: 1), namespace: "premium-service")
            #expect(
                try await cluster.waitUntil { try await cluster.jobFinished("fails", namespace: "premium-service") })
            let job = try await cluster.job("fails", namespace: "premium-service")
            #expect(job.value(atPath: "status.failed") == .integer(2))
            let conditions = job.value(atPath: "status.conditions")?.arrayValue ?? []
            #expect(conditions.map { $0["type"] } == ["FailureTarget", "Failed"])
            #expect(conditions.last?["reason"] == "BackoffLimitExceeded")
            let pods = try await cluster.request(
                .get, "/api/v1/namespaces/premium-service/pods?labelSelector=job-name%3Dfails")
            let exitCodes = (pods.json["items"]?.arrayValue ?? []).compactMap {
                $0.value(atPath: "status.containerStatuses")?.arrayValue?.first?.value(
                    atPath: "state.terminated.exitCode")
            }
            #expect(exitCodes == [.integer(3), .integer(3)])
        }
    }

    @Test("activeDeadlineSeconds fails a Job with DeadlineExceeded; ttlSecondsAfterFinished deletes it")
    func deadlineAndTTL() async throws {
        try await withCluster { cluster in
            var slow = shellJob("slow", script: "sleep 30")
            slow = slow.applyingMergePatch(.object(["spec": .object(["activeDeadlineSeconds": .integer(1)])]))
            try await cluster.createJob(slow, namespace: "premium-service")
            var brief = shellJob("brief", script: "true")
            brief = brief.applyingMergePatch(.object(["spec": .object(["ttlSecondsAfterFinished": .integer(1)])]))
            try await cluster.createJob(brief, namespace: "premium-service")

            #expect(try await cluster.waitUntil { try await cluster.jobFinished("slow", namespace: "premium-service") })
            let job = try await cluster.job("slow", namespace: "premium-service")
            #expect(job.value(atPath: "status.conditions")?.arrayValue?.last?["reason"] == "DeadlineExceeded")
            let pods = try await cluster.request(
                .get, "/api/v1/namespaces/premium-service/pods?labelSelector=job-name%3Dslow")
            #expect(pods.json["items"]?.arrayValue?.isEmpty == true, "the deadline deletes the running pod")

            #expect(
                try await cluster.waitUntil {
                    try await cluster.request(.get, "/apis/batch/v1/namespaces/premium-service/jobs/brief").status
                        == 404
                })
        }
    }

    @Test("a watch replays changes after a resourceVersion, and one too old gets a 410 Expired event")
    func watch() async throws {
        try await withCluster(watchHistoryCapacity: 20) { cluster in
            let list = try await cluster.request(.get, "/apis/batch/v1/namespaces/premium-service/jobs")
            let version = try #require(list.json.value(atPath: "metadata.resourceVersion")?.stringValue)
            try await cluster.createJob(shellJob("watched", script: "true"), namespace: "premium-service")

            var request = HTTPClientRequest(
                url: cluster.cluster.serverURL
                    + "/apis/batch/v1/namespaces/premium-service/jobs?watch=1&resourceVersion=\(version)&timeoutSeconds=5"
            )
            request.setBearerToken(cluster.adminToken)
            let stream = try await cluster.client.stream(request)
            var first: JSONValue?
            for try await line in stream.lines where !line.isEmpty {
                first = try JSONValue(json: Data(line.utf8))
                break
            }
            #expect(first?["type"] == "ADDED")
            #expect(first?.value(atPath: "object.metadata.name") == "watched")

            // Enough writes to push the first version out of the 20-entry history.
            for index in 0..<3 {
                try await cluster.createJob(shellJob("filler-\(index)", script: "true"), namespace: "premium-service")
            }
            #expect(
                try await cluster.waitUntil {
                    var done = true
                    for index in 0..<3
                    where try await !cluster.jobFinished("filler-\(index)", namespace: "premium-service") {
                        done = false
                    }
                    return done
                })
            var stale = HTTPClientRequest(
                url: cluster.cluster.serverURL
                    + "/apis/batch/v1/namespaces/premium-service/jobs?watch=1&resourceVersion=1")
            stale.setBearerToken(cluster.adminToken)
            let expired = try await cluster.client.stream(stale)
            var error: JSONValue?
            for try await line in expired.lines where !line.isEmpty {
                error = try JSONValue(json: Data(line.utf8))
                break
            }
            #expect(error?["type"] == "ERROR")
            #expect(error?.value(atPath: "object.code") == .integer(410))
            #expect(error?.value(atPath: "object.reason") == "Expired")
        }
    }

    @Test("events can be selected by involvedObject.name")
    func eventFieldSelector() async throws {
        try await withCluster { cluster in
            try await cluster.createJob(shellJob("noted", script: "true"), namespace: "premium-service")
            #expect(
                try await cluster.waitUntil { try await cluster.jobFinished("noted", namespace: "premium-service") })
            let events = try await cluster.request(
                .get, "/api/v1/namespaces/premium-service/events?fieldSelector=involvedObject.name%3Dnoted")
            let reasons = Set((events.json["items"]?.arrayValue ?? []).compactMap { $0["reason"]?.stringValue })
            #expect(reasons == ["SuccessfulCreate", "Completed"])
        }
    }

    @Test(
        "tailLines keeps the last lines",
        arguments: [
            ("a\nb\nc\n", 2, "b\nc\n"), ("a\nb\nc", 1, "c"), ("a\n", 5, "a\n"), ("a\nb\n", 0, ""),
        ])
    func tailLines(input: String, count: Int, expected: String) {
        let tail = APIServer.lastLines(Array(input.utf8), count: count)
        #expect(String(decoding: tail, as: UTF8.self) == expected)
    }

    @Test("label selectors parse equality, set and existence requirements")
    func labelSelectors() throws {
        let selector = try LabelSelectorQuery("app=web,tier!=free,zone in (a, b),!legacy,owner")
        #expect(selector.matches(["app": "web", "tier": "premium", "zone": "a", "owner": "x"]))
        #expect(!selector.matches(["app": "web", "tier": "free", "zone": "a", "owner": "x"]))
        #expect(!selector.matches(["app": "web", "zone": "c", "owner": "x"]))
        #expect(!selector.matches(["app": "web", "zone": "a", "owner": "x", "legacy": "1"]))
    }
}
