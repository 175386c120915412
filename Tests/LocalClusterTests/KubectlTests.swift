import Foundation
import Kubernetes
import Testing

@testable import LocalCluster

/// The real kubectl, as an independent client, against an in-process cluster.
@Suite struct KubectlTests {
    @Test("kubectl get jobs -o json lists a Job created with kubectl create -f")
    func getJobsJSON() async throws {
        try await withCluster { cluster in
            let manifest = """
                apiVersion: batch/v1
                kind: Job
                metadata: {name: listed, namespace: free-service}
                spec:
                  template:
                    spec:
                      restartPolicy: Never
                      activeDeadlineSeconds: 60
                      containers: [{name: main, image: busybox, command: [/bin/true], futureField: kept}]
                """
            let created = try await cluster.kubectl(["create", "-f", "-"], input: manifest)
            #expect(created.status == 0, "\(created.error)")
            #expect(created.output.contains("job.batch/listed created"))

            let listed = try await cluster.kubectl(["get", "jobs", "-n", "free-service", "-o", "json"])
            #expect(listed.status == 0, "\(listed.error)")
            let list = try JSONValue(json: Data(listed.output.utf8))
            let items = list["items"]?.arrayValue ?? []
            #expect(items.count == 1)
            let job = try #require(items.first)
            #expect(job.value(atPath: "metadata.name") == "listed")
            #expect(job.value(atPath: "metadata.uid")?.stringValue?.isEmpty == false)
            #expect(job.value(atPath: "metadata.resourceVersion") != nil)
            #expect(job.value(atPath: "metadata.creationTimestamp") != nil)
            let container = job.value(atPath: "spec.template.spec.containers")?.arrayValue?.first
            #expect(container?["futureField"] == "kept", "unknown fields survive the round trip")
            let uid = job.value(atPath: "metadata.uid")?.stringValue ?? ""
            #expect(
                job.value(atPath: "spec.selector.matchLabels")?["batch.kubernetes.io/controller-uid"] == .string(uid))
        }
    }

    @Test("kubectl get and describe print tables and events")
    func tablesAndDescribe() async throws {
        try await withCluster { cluster in
            try await cluster.createJob(shellJob("shown", script: "echo hi"), namespace: "free-service")
            #expect(try await cluster.waitUntil { try await cluster.jobFinished("shown", namespace: "free-service") })
            let jobs = try await cluster.kubectl(["get", "jobs", "-n", "free-service"])
            #expect(jobs.output.contains("NAME"), "\(jobs.output)\(jobs.error)")
            #expect(jobs.output.contains("COMPLETIONS"))
            #expect(jobs.output.contains("Complete"))
            #expect(jobs.output.contains("1/1"))
            let pods = try await cluster.kubectl(["get", "pods", "-n", "free-service"])
            #expect(pods.output.contains("shown-"))
            #expect(pods.output.contains("Completed"))
            let described = try await cluster.kubectl(["describe", "job", "shown", "-n", "free-service"])
            #expect(described.status == 0, "\(described.error)")
            #expect(described.output.contains("SuccessfulCreate"))
            #expect(described.output.contains("1 Succeeded"))
        }
    }

    @Test("kubectl logs job/NAME prints the real job's output, ending in its JSON summary")
    func logsOfRealJob() async throws {
        try await withCluster { cluster in
            let job: JSONValue = .object([
                "apiVersion": "batch/v1", "kind": "Job", "metadata": .object(["name": "mnist"]),
                "spec": .object([
                    "template": .object([
                        "spec": .object([
                            "restartPolicy": "Never", "activeDeadlineSeconds": .integer(300),
                            "containers": .array([
                                .object([
                                    "name": "job", "image": "tierserve/job:latest",
                                    "env": .array([.object(["name": "LOG_LEVEL", "value": "info"])]),
                                ])
                            ]),
                        ])
                    ])
                ]),
            ])
            try await cluster.createJob(job, namespace: "premium-service")
            #expect(
                try await cluster.waitUntil(timeout: .seconds(120)) {
                    try await cluster.jobFinished("mnist", namespace: "premium-service")
                })
            let stored = try await cluster.job("mnist", namespace: "premium-service")
            #expect(stored.value(atPath: "status.succeeded") == .integer(1), "\(stored)")

            let logs = try await cluster.kubectl(["logs", "job/mnist", "-n", "premium-service"])
            #expect(logs.status == 0, "\(logs.error)")
            let lastLine = try #require(logs.output.split(separator: "\n").last)
            let summary = try JSONValue(json: Data(lastLine.utf8))
            #expect(summary["mode"] == "evaluate", "the last line is the job's JSON summary: \(lastLine)")
            #expect(summary["samples"] == .integer(10000))

            let tail = try await cluster.kubectl(["logs", "job/mnist", "-n", "premium-service", "--tail=1"])
            #expect(tail.output.trimmingCharacters(in: .newlines) == String(lastLine))
        }
    }

    @Test("kubectl logs -f follows a running pod until it exits")
    func followLogs() async throws {
        try await withCluster { cluster in
            let script = "echo one; sleep 0.5; echo two; sleep 0.5; echo three"
            try await cluster.createJob(shellJob("followed", script: script), namespace: "free-service")
            #expect(
                try await cluster.waitUntil {
                    let pods = try await cluster.request(
                        .get, "/api/v1/namespaces/free-service/pods?labelSelector=job-name%3Dfollowed")
                    return pods.json["items"]?.arrayValue?.first?.value(atPath: "status.phase") == "Running"
                })
            let followed = try await cluster.kubectl(["logs", "-f", "job/followed", "-n", "free-service"])
            #expect(followed.status == 0, "\(followed.error)")
            #expect(followed.output == "one\ntwo\nthree\n")
        }
    }

    @Test("kubectl auth can-i with the free tier's token: no in premium-service, yes in free-service")
    func canI() async throws {
        try await withCluster { cluster in
            let token = try cluster.token(namespace: "free-service", name: "free-tier")
            let premium = try await cluster.kubectl(
                ["auth", "can-i", "create", "jobs", "-n", "premium-service"], token: token)
            #expect(premium.output.trimmingCharacters(in: .whitespacesAndNewlines) == "no")
            #expect(premium.status == 1)
            let free = try await cluster.kubectl(
                ["auth", "can-i", "create", "jobs", "-n", "free-service"], token: token)
            #expect(free.output.trimmingCharacters(in: .whitespacesAndNewlines) == "yes")
            #expect(free.status == 0)
            let logs = try await cluster.kubectl(
                ["auth", "can-i", "get", "pods/log", "-n", "free-service"], token: token)
            #expect(logs.output.trimmingCharacters(in: .whitespacesAndNewlines) == "no")

            let denied = try await cluster.kubectl(["get", "jobs", "-n", "premium-service"], token: token)
            #expect(denied.status != 0)
            #expect(
                denied.error.contains(
                    "jobs.batch is forbidden: User \"system:serviceaccount:free-service:free-tier\" cannot list "
                        + "resource \"jobs\" in API group \"batch\" in the namespace \"premium-service\""),
                "\(denied.error)")
        }
    }

    @Test(
        "kubectl create rejects a 64-character Job name and one with capitals as Invalid",
        arguments: [
            String(repeating: "a", count: 64), "Bad_Name",
        ])
    func invalidNames(name: String) async throws {
        try await withCluster { cluster in
            let manifest = """
                apiVersion: batch/v1
                kind: Job
                metadata: {name: \(name), namespace: free-service}
                spec:
                  template:
                    spec:
                      restartPolicy: Never
                      containers: [{name: main, image: busybox}]
                """
            let result = try await cluster.kubectl(["create", "-f", "-"], input: manifest)
            #expect(result.status != 0)
            #expect(result.error.contains("The Job \"\(name)\" is invalid"), "\(result.error)")

            let response = try await cluster.request(
                .post, "/apis/batch/v1/namespaces/free-service/jobs", body: shellJob(name, script: "true"))
            #expect(response.status == 422)
            #expect(response.json["reason"] == "Invalid")
            let causes = response.json.value(atPath: "details.causes")?.arrayValue ?? []
            #expect(!causes.isEmpty)
        }
    }
}
