import Foundation
import Glibc
import HTTPClient
import HTTPTypes
import Kubernetes
import Testing

@testable import LocalCluster

/// The `local-cluster` executable, killed mid-run and started again on the same state.
@Suite struct RestartTests {
    /// A `local-cluster` process and the URL it printed.
    final class ClusterProcess {
        let process = Process()
        let outputFile: URL
        private(set) var serverURL = ""

        init(state: URL, images: URL) throws {
            outputFile = state.deletingLastPathComponent().appendingPathComponent(
                "\(state.lastPathComponent)-\(UUID().uuidString.prefix(4)).log")
            FileManager.default.createFile(atPath: outputFile.path, contents: nil)
            process.executableURL = URL(fileURLWithPath: Checkout.clusterExecutable)
            process.arguments = [
                "--state-dir", state.path, "--manifests", Checkout.manifests.path, "--images", images.path,
                "--log-level", "warning",
            ]
            let handle = try FileHandle(forWritingTo: outputFile)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        /// Waits for the "serving URL" line.
        func waitUntilServing() async throws {
            for _ in 0..<500 {
                let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
                if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("local-cluster serving ") }) {
                    serverURL = String(line.split(separator: " ")[2])
                    return
                }
                if !process.isRunning { throw TestFailure("local-cluster exited: \(text)") }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw TestFailure("local-cluster did not start")
        }

        /// Sends `signal` and waits for the process to exit.
        func end(with signal: Int32) async {
            kill(process.processIdentifier, signal)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
            try? FileManager.default.removeItem(at: outputFile)
        }
    }

    @Test("a restart mid-run keeps acknowledged objects and logs and fails the interrupted pod with the reason")
    func restartMidRun() async throws {
        let directory = try TemporaryDirectory("restart")
        defer { directory.remove() }
        let state = directory.url.appendingPathComponent("state")
        let images = directory.url.appendingPathComponent("images.yaml")
        try Data("images:\n  busybox:\n    command: [/bin/sh]\n".utf8).write(to: images)

        // 1. First run: one Job completes, one is left running.
        let first = try ClusterProcess(state: state, images: images)
        try await first.waitUntilServing()
        let client = HTTPClient(
            configuration: .init(
                tls: .init(trustedCertificates: .file(path: state.appendingPathComponent("ca.crt").path))))
        let token = try String(contentsOf: state.appendingPathComponent("admin.token"), encoding: .utf8)
        func call(_ url: String, _ method: HTTPMethod = .get, body: JSONValue? = nil) async throws -> JSONValue {
            var request = HTTPClientRequest(method: method, url: url)
            request.setBearerToken(token)
            if let body {
                request.body = Array(try body.jsonData())
                request.headers["Content-Type"] = "application/json"
            }
            return try JSONValue(json: Data(try await client.send(request).body))
        }
        func pods(_ base: String, job: String) async throws -> [JSONValue] {
            try await call("\(base)/api/v1/namespaces/premium-service/pods?labelSelector=job-name%3D\(job)")["items"]?
                .arrayValue ?? []
        }
        func log(_ base: String, pod: String) async throws -> String {
            var request = HTTPClientRequest(url: "\(base)/api/v1/namespaces/premium-service/pods/\(pod)/log")
            request.setBearerToken(token)
            return try await client.send(request).text
        }
        var base = first.serverURL
        _ = try await call(
            "\(base)/apis/batch/v1/namespaces/premium-service/jobs", .post,
            body: shellJob("done", script: "echo finished"))
        _ = try await call(
            "\(base)/apis/batch/v1/namespaces/premium-service/jobs", .post,
            body: shellJob("interrupted", script: "echo before; exec sleep 37", backoffLimit: 1))
        var interruptedPod = ""
        var interruptedPID: pid_t = 0
        for _ in 0..<500 {
            let running = try await pods(base, job: "interrupted").first {
                $0.value(atPath: "status.phase") == "Running"
            }
            let done = try await pods(base, job: "done").first { $0.value(atPath: "status.phase") == "Succeeded" }
            if let running, done != nil,
                try await log(base, pod: running.value(atPath: "metadata.name")?.stringValue ?? "").contains("before")
            {
                interruptedPod = running.value(atPath: "metadata.name")?.stringValue ?? ""
                let containerID =
                    running.value(atPath: "status.containerStatuses")?.arrayValue?.first?["containerID"]?.stringValue
                    ?? ""
                interruptedPID = pid_t(containerID.dropFirst("local://".count)) ?? 0
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(!interruptedPod.isEmpty)
        #expect(interruptedPID > 0)

        // 2. The cluster dies without a chance to clean up.
        await first.end(with: SIGKILL)

        // 3. Second run on the same state.
        let second = try ClusterProcess(state: state, images: images)
        try await second.waitUntilServing()
        base = second.serverURL
        let done = try await call("\(base)/apis/batch/v1/namespaces/premium-service/jobs/done")
        #expect(done.value(atPath: "status.succeeded") == .integer(1))
        let donePod = try #require(try await pods(base, job: "done").first?.value(atPath: "metadata.name")?.stringValue)
        #expect(try await log(base, pod: donePod) == "finished\n")

        let interrupted = try await call("\(base)/api/v1/namespaces/premium-service/pods/\(interruptedPod)")
        #expect(interrupted.value(atPath: "status.phase") == "Failed")
        #expect(interrupted.value(atPath: "status.reason") == "LocalClusterRestarted")
        #expect(
            interrupted.value(atPath: "status.message")?.stringValue?.contains("restarted while this pod was running")
                == true)
        #expect(try await log(base, pod: interruptedPod) == "before\n")
        var orphanGone = false
        for _ in 0..<200 where !orphanGone {
            orphanGone = kill(interruptedPID, 0) != 0
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(orphanGone, "the process of the interrupted pod is killed at restart")

        // 4. The Job controller applies backoffLimit as usual: one failure, so a replacement pod runs.
        var replaced = false
        for _ in 0..<500 where !replaced {
            replaced = try await pods(base, job: "interrupted").contains {
                $0.value(atPath: "metadata.name")?.stringValue != interruptedPod
                    && $0.value(atPath: "status.phase") == "Running"
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(replaced)
        let job = try await call("\(base)/apis/batch/v1/namespaces/premium-service/jobs/interrupted")
        #expect(job.value(atPath: "status.failed") == .integer(1))

        // 5. A clean stop takes the replacement's process with it.
        let replacement = try await pods(base, job: "interrupted").first {
            $0.value(atPath: "status.phase") == "Running"
        }
        let replacementID =
            replacement?.value(atPath: "status.containerStatuses")?.arrayValue?.first?["containerID"]?.stringValue ?? ""
        let replacementPID = pid_t(replacementID.dropFirst("local://".count)) ?? 0
        await second.end(with: SIGTERM)
        #expect(replacementPID > 0 && kill(replacementPID, 0) != 0, "stopping the cluster kills its containers")
    }
}
