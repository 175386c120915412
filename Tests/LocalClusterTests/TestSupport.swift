import Foundation
import HTTPClient
import HTTPTypes
import Kubernetes
import Logging

@testable import LocalCluster

/// Paths in this checkout that the tests use.
enum Checkout {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let manifests = root.appendingPathComponent("Manifests", isDirectory: true)
    static let jobExecutable = root.appendingPathComponent(".build/debug/job").path
    static let clusterExecutable = root.appendingPathComponent(".build/debug/local-cluster").path

    /// `busybox` runs `/bin/sh`; `tierserve/job:latest` runs the real job on this machine's models and data.
    static var images: ImageMap {
        ImageMap(images: [
            "busybox": .init(command: ["/bin/sh"]),
            "tierserve/job:latest": .init(
                command: [jobExecutable],
                env: [
                    "MODEL_DIR": root.appendingPathComponent("Models").path,
                    "DATA_DIR": root.appendingPathComponent("data").path, "DATASET": "mnist", "TYPE": "ff",
                ]),
        ])
    }
}

/// A fresh temporary directory, removed by `remove()`.
struct TemporaryDirectory {
    let url: URL

    init(_ label: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// A running in-process cluster and the means to talk to it.
struct TestCluster {
    let cluster: LocalCluster
    let state: URL
    let client: HTTPClient

    var adminToken: String { cluster.adminToken }

    /// The token of service account `name` in `namespace`, read from its mount-shaped file.
    func token(namespace: String, name: String) throws -> String {
        try String(contentsOfFile: cluster.serviceAccountTokenPath(namespace: namespace, name: name), encoding: .utf8)
    }

    /// Sends a request and returns the status code and the JSON body (null when the body is not JSON).
    func request(
        _ method: HTTPMethod, _ path: String, token: String? = nil, anonymous: Bool = false, body: JSONValue? = nil,
        headers: HTTPHeaders = [:]
    ) async throws -> (status: Int, json: JSONValue, text: String) {
        var request = HTTPClientRequest(method: method, url: cluster.serverURL + path, headers: headers)
        if !anonymous { request.setBearerToken(token ?? adminToken) }
        if let body {
            request.body = Array(try body.jsonData())
            request.headers["Content-Type"] = "application/json"
        }
        let response = try await client.send(request)
        let json = (try? JSONValue(json: Data(response.body))) ?? .null
        return (response.status.code, json, response.text)
    }

    /// Runs kubectl against the cluster, as the admin by default or with `token`.
    func kubectl(_ arguments: [String], token: String? = nil, input: String? = nil) async throws -> CommandResult {
        var base = ["--cache-dir", state.appendingPathComponent("kubectl-cache").path]
        if let token {
            base += [
                "--kubeconfig", "/dev/null", "--server", cluster.serverURL, "--token", token,
                "--certificate-authority", cluster.caCertificatePath,
            ]
        } else {
            base += ["--kubeconfig", cluster.kubeconfigPath]
        }
        return try await runCommand("/usr/bin/kubectl", base + arguments, input: input)
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes.
    func waitUntil(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Creates a Job from JSON in `namespace` as the admin and returns the stored object.
    @discardableResult
    func createJob(_ job: JSONValue, namespace: String) async throws -> JSONValue {
        let response = try await request(.post, "/apis/batch/v1/namespaces/\(namespace)/jobs", body: job)
        guard response.status == 201 else {
            throw TestFailure("creating a job answered \(response.status): \(response.text)")
        }
        return response.json
    }

    /// The Job `name`'s stored JSON.
    func job(_ name: String, namespace: String) async throws -> JSONValue {
        try await request(.get, "/apis/batch/v1/namespaces/\(namespace)/jobs/\(name)").json
    }

    /// True once the Job has a Complete or Failed condition.
    func jobFinished(_ name: String, namespace: String) async throws -> Bool {
        let conditions = try await job(name, namespace: namespace).value(atPath: "status.conditions")?.arrayValue ?? []
        return conditions.contains { ["Complete", "Failed"].contains($0["type"]?.stringValue ?? "") }
    }
}

/// A Job running `script` under `/bin/sh -c` in the busybox image.
func shellJob(
    _ name: String, script: String, activeDeadlineSeconds: Int64? = 300, backoffLimit: Int64? = nil
) -> JSONValue {
    var podSpec: [String: JSONValue] = [
        "restartPolicy": "Never",
        "containers": .array([
            .object(["name": "main", "image": "busybox", "command": .array(["/bin/sh", "-c", .string(script)])])
        ]),
    ]
    if let activeDeadlineSeconds { podSpec["activeDeadlineSeconds"] = .integer(activeDeadlineSeconds) }
    var spec: [String: JSONValue] = ["template": .object(["spec": .object(podSpec)])]
    if let backoffLimit { spec["backoffLimit"] = .integer(backoffLimit) }
    return .object([
        "apiVersion": "batch/v1", "kind": "Job", "metadata": .object(["name": .string(name)]), "spec": .object(spec),
    ])
}

/// Starts a cluster with the repository's manifests in a temporary state directory, runs `body`, then stops
/// the cluster and removes the directory whatever `body` does.
func withCluster<T>(
    manifests: Bool = true, watchHistoryCapacity: Int = 10_000, _ body: (TestCluster) async throws -> T
) async throws -> T {
    let directory = try TemporaryDirectory("local-cluster-test")
    let cluster = try await LocalCluster.start(
        .init(
            stateDirectory: directory.url, manifestsDirectory: manifests ? Checkout.manifests : nil,
            images: Checkout.images, watchHistoryCapacity: watchHistoryCapacity,
            logger: Logger(label: "local-cluster-test", level: .warning)))
    let client = HTTPClient(
        configuration: .init(tls: .init(trustedCertificates: .file(path: cluster.caCertificatePath))))
    let test = TestCluster(cluster: cluster, state: directory.url, client: client)
    do {
        let result = try await body(test)
        await cluster.stop()
        directory.remove()
        return result
    } catch {
        await cluster.stop()
        directory.remove()
        throw error
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What a finished command printed and how it exited.
struct CommandResult {
    var status: Int32
    var output: String
    var error: String
}

/// Runs a command to completion without blocking a cooperative thread; output goes through temporary files
/// so a chatty command cannot fill a pipe and stall.
func runCommand(_ executable: String, _ arguments: [String], input: String? = nil) async throws -> CommandResult {
    let directory = try TemporaryDirectory("command")
    defer { directory.remove() }
    let outputPath = directory.url.appendingPathComponent("out")
    let errorPath = directory.url.appendingPathComponent("err")
    FileManager.default.createFile(atPath: outputPath.path, contents: nil)
    FileManager.default.createFile(atPath: errorPath.path, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: outputPath)
    process.standardError = try FileHandle(forWritingTo: errorPath)
    if let input {
        let inputPath = directory.url.appendingPathComponent("in")
        try Data(input.utf8).write(to: inputPath)
        process.standardInput = try FileHandle(forReadingFrom: inputPath)
    }
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    return CommandResult(
        status: status, output: (try? String(contentsOf: outputPath, encoding: .utf8)) ?? "",
        error: (try? String(contentsOf: errorPath, encoding: .utf8)) ?? "")
}
