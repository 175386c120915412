import Foundation
import HTTPServer
import HTTPTypes
import Kubernetes
import KubernetesClient
import Logging
import Synchronization

/// A stand-in API server on a loopback port: it answers with whatever the test's handler returns and keeps
/// every request it saw.
final class MockAPIServer: Sendable {
    let server: HTTPServer
    /// The requests received, in arrival order.
    private let log: RequestLog

    init(
        tls: HTTPServer.Configuration.TLS? = nil, handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse
    ) throws {
        // Each request is recorded before the handler runs, so a test sees it even when the handler never answers.
        let recording = RequestLog()
        server = try HTTPServer(
            configuration: .init(
                tls: tls, shutdownGracePeriod: .milliseconds(200),
                logger: Logger(label: "mock-api-server", level: .warning))
        ) { request in
            recording.append(request)
            return await handler(request)
        }
        self.log = recording
    }

    var requests: [HTTPRequest] { log.all }

    var url: String { "\(server.configuration.tls == nil ? "http" : "https")://127.0.0.1:\(server.port)" }

    func client(token: String? = "test-token", timeout: Duration = .seconds(5)) -> KubernetesClient {
        KubernetesClient(configuration: KubernetesConfiguration(server: url, token: token), timeout: timeout)
    }

    func stop() async {
        await server.stop()
    }
}

/// The requests a mock server saw; the mutex guards the array.
final class RequestLog: Sendable {
    private let requests = Mutex<[HTTPRequest]>([])

    func append(_ request: HTTPRequest) {
        requests.withLock { $0.append(request) }
    }

    var all: [HTTPRequest] { requests.withLock { $0 } }
}

/// Runs `body` with a mock API server, and stops the server whatever `body` does.
func withMockServer<T>(
    tls: HTTPServer.Configuration.TLS? = nil, handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse,
    _ body: (MockAPIServer) async throws -> T
) async throws -> T {
    let server = try MockAPIServer(tls: tls, handler: handler)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// An error answer carrying `status`, as the API server sends one.
func statusResponse(_ status: Status) -> HTTPResponse {
    .json(status, status: HTTPStatus(code: status.code ?? 500))
}

/// A JSON answer from a literal, for bodies shaped exactly like the API server's.
func rawJSON(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
    HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: .bytes(Array(text.utf8)))
}

/// A Job as the server returns it: named, with a resource version.
func storedJob(_ name: String, resourceVersion: String, namespace: String = "free") -> Job {
    var job = Job(metadata: ObjectMeta(name: name, namespace: namespace))
    job.metadata.resourceVersion = resourceVersion
    job.metadata.uid = "uid-\(name)"
    return job
}

/// One line of a watch stream.
func watchLine<T: Codable & Sendable>(_ type: String, _ object: T) -> [UInt8] {
    let data = (try? JSONEncoder().encode(WatchEvent(type: type, object: object))) ?? Data()
    return Array(data) + [UInt8(ascii: "\n")]
}

/// A directory under the system's temporary directory, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kc-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}

/// Writes `text` to `path` atomically (a new file renamed into place), as the kubelet rotates tokens.
func write(_ text: String, to path: String, executable: Bool = false) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    if executable {
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }
}
