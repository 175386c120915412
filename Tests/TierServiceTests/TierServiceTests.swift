import Foundation
import HTTPServer
import HTTPTypes
import Inference
import Kubernetes
import KubernetesClient
import Logging
import Synchronization
import Testing
import YAML

@testable import TierService

/// A stand-in API server that records the Jobs posted to it and answers as the real one does.
final class FakeAPIServer: Sendable {
    let server: HTTPServer
    /// The bodies of the Job creations received.
    let created = Recorder()

    /// What the server's handler threads append to; the mutex guards the list.
    final class Recorder: Sendable {
        let bodies = Mutex<[JSONValue]>([])
    }

    /// `refusal`: when set, every creation is answered with this Status code and reason.
    init(refusal: (code: Int, reason: String, message: String)? = nil) throws {
        let created = self.created
        server = try HTTPServer(
            configuration: .init(host: "127.0.0.1", port: 0, logger: Logger(label: "api", level: .error))
        ) {
            request in
            if request.path == "/version" { return .json(["major": "1", "minor": "32", "gitVersion": "v1.32.0-test"]) }
            guard request.method == .post, request.path == "/apis/batch/v1/namespaces/free-service/jobs" else {
                return .json(
                    ["kind": "Status", "status": "Failure", "reason": "NotFound", "code": "404"], status: .notFound)
            }
            if let refusal {
                let status = Status(code: refusal.code, reason: refusal.reason, message: refusal.message)
                return .json(status, status: HTTPStatus(code: refusal.code))
            }
            guard let job = try? JSONValue(json: Data(request.body)) else { return .text("bad", status: .badRequest) }
            created.bodies.withLock { $0.append(job) }
            return HTTPResponse(
                status: .created, headers: ["content-type": "application/json"], body: .bytes(request.body))
        }
    }

    var url: String { "http://127.0.0.1:\(server.port)" }
    var jobs: [JSONValue] { created.bodies.withLock { $0 } }
}

enum Fixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func template() throws -> JobTemplate {
        let path = root.appendingPathComponent("Manifests/free-tier-job.yaml").path
        return try JobTemplate(yaml: try String(contentsOfFile: path, encoding: .utf8), source: path)
    }

    /// A service against `server`. The timeout is generous: on a loaded two-core machine running every test
    /// suite at once, a loopback answer can take seconds.
    static func service(server: String, timeout: Duration = .seconds(15)) throws -> TierService {
        TierService(
            configuration: .init(
                tier: "free", namespace: "free-service", template: try template(),
                logger: Logger(label: "tier", level: .error)),
            client: KubernetesClient(configuration: KubernetesConfiguration(server: server), timeout: timeout))
    }

    static func post(_ path: String, _ body: String, contentType: String? = "application/json") -> HTTPRequest {
        var headers: HTTPHeaders = [:]
        if let contentType { headers["content-type"] = contentType }
        return HTTPRequest(method: .post, path: path, headers: headers, body: Array(body.utf8))
    }

    static func json(_ response: HTTPResponse) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(try #require(response.bodyBytes)))
    }

    static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }
}

@Suite struct TierServiceTests {
    @Test("POST /free creates one Job from the template and answers with its name, as the reference did")
    func submits() async throws {
        let api = try FakeAPIServer()
        let response = await try Fixture.service(server: api.url).handle(
            Fixture.post("/free", "{\"dataset\":\"mnist\"}"))
        #expect(response.status == .ok)
        let body = try Fixture.json(response)
        #expect(body["status"] == "submitted")
        let name = try #require(body["job_name"])
        #expect(name.wholeMatch(of: /free-job-[a-z0-9]{10}/) != nil)

        let job = try #require(api.jobs.first)
        #expect(api.jobs.count == 1)
        #expect(Fixture.string(job["metadata"]?["name"]) == name)
        #expect(job["metadata"]?["generateName"] == nil)
        // Fields of the template reach the cluster unchanged.
        let pod = job["spec"]?["template"]?["spec"]
        #expect(pod?["automountServiceAccountToken"] == .bool(false))
        #expect(Fixture.string(pod?["securityContext"]?["seccompProfile"]?["type"]) == "RuntimeDefault")
        #expect(job["spec"]?["activeDeadlineSeconds"] != nil)
        await api.server.stop()
    }

    @Test("POST /free/predict validates the images and passes them to the Job as INPUTS")
    func predicts() async throws {
        let api = try FakeAPIServer()
        let image = "[" + Array(repeating: "0", count: 783).joined(separator: ",") + ",255]"
        let response = await try Fixture.service(server: api.url).handle(
            Fixture.post("/free/predict", "{\"dataset\":\"mnist\",\"images\":[\(image),\(image)]}"))
        #expect(response.status == .ok)
        guard case .array(let containers)? = api.jobs.first?["spec"]?["template"]?["spec"]?["containers"],
            let container = containers.first, case .array(let environment)? = container["env"]
        else {
            Issue.record("no env")
            return
        }
        let inputs = try #require(environment.first { Fixture.string($0["name"]) == "INPUTS" })
        let document = try #require(Fixture.string(inputs["value"]))
        // The compact form: 2 images of 784 bytes, the last byte of each 255.
        let packed = try ImageBatch(json: Data(document.utf8))
        #expect(packed.count == 2)
        #expect(packed.pixels[783] == 255 && packed.pixels[1567] == 255 && packed.pixels[0] == 0)
        #expect(
            environment.contains { Fixture.string($0["name"]) == "DATASET" && Fixture.string($0["value"]) == "mnist" })
        await api.server.stop()
    }

    static let badRequests: [(String, String, String?, Int, String)] = [
        (
            "/free", "{\"dataset\":\"kmnist\"}", "application/json", 400,
            "the free tier serves \"mnist\", not \"kmnist\""
        ),
        ("/free", "{\"dataset\":\"mnist\"", "application/json", 400, "not a JSON object"),
        ("/free", "", "application/json", 400, "the request body is empty"),
        ("/free", "[\"mnist\"]", "application/json", 400, "not a JSON object"),
        ("/free", "{}", "application/json", 400, "\"dataset\" is missing"),
        ("/free", "{\"dataset\":7}", "application/json", 400, "\"dataset\" must be a string"),
        ("/free", "{\"datset\":\"mnist\"}", "application/json", 400, "unknown field \"datset\""),
        ("/free", "{\"dataset\":\"mnist\"}", "text/plain", 415, "Content-Type is \"text/plain\""),
        ("/free", "{\"dataset\":\"mnist\"}", nil, 415, "Content-Type is missing"),
        ("/free/predict", "{\"dataset\":\"mnist\"}", "application/json", 400, "\"images\" is missing"),
        ("/free/predict", "{\"dataset\":\"mnist\",\"images\":[]}", "application/json", 400, "no images given"),
        (
            "/free/predict", "{\"dataset\":\"mnist\",\"images\":[\"bm90IGEgcG5n\"]}", "application/json", 400,
            "image 0: the data is not a PNG"
        ),
        (
            "/free/predict", "{\"dataset\":\"mnist\",\"images\":[[1,2]]}", "application/json", 400,
            "image 0: the image has 2 pixels"
        ),
        ("/freebie", "{\"dataset\":\"mnist\"}", "application/json", 404, "no endpoint /freebie"),
    ]

    @Test("bad requests get a 4xx JSON error naming the problem, and no Job", arguments: badRequests)
    func refuses(path: String, body: String, contentType: String?, status: Int, message: String) async throws {
        let api = try FakeAPIServer()
        let response = await try Fixture.service(server: api.url).handle(
            Fixture.post(path, body, contentType: contentType))
        #expect(response.status.code == status)
        #expect(response.headers["content-type"] == "application/json")
        let error = try #require(try Fixture.json(response)["error"])
        #expect(error.contains(message), "\(error)")
        #expect(api.jobs.isEmpty)
        await api.server.stop()
    }

    @Test("GET on the submit path is 405 with an Allow header")
    func wrongMethod() async throws {
        let service = try Fixture.service(server: "http://127.0.0.1:9")
        let response = await service.handle(HTTPRequest(method: .get, path: "/free"))
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == "POST")
    }

    @Test("a cluster refusal is a 503 carrying the cluster's reason, never a job name")
    func clusterRefusal() async throws {
        let message =
            "jobs.batch is forbidden: User \"system:serviceaccount:free-service:free-tier\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"free-service\""
        let api = try FakeAPIServer(refusal: (403, "Forbidden", message))
        let response = await try Fixture.service(server: api.url).handle(
            Fixture.post("/free", "{\"dataset\":\"mnist\"}"))
        #expect(response.status == .serviceUnavailable)
        let body = try Fixture.json(response)
        #expect(body["reason"] == "Forbidden")
        #expect(body["code"] == "403")
        #expect(body["error"]?.contains("cannot create resource \"jobs\"") == true)
        #expect(body["job_name"] == nil)
        await api.server.stop()
    }

    @Test("an unreachable cluster is a 503 within the client's timeout; /healthz still answers, /readyz does not")
    func unreachableCluster() async throws {
        // Port 9 (discard) has no listener on loopback here: connections are refused at once.
        let service = try Fixture.service(server: "http://127.0.0.1:9", timeout: .seconds(2))
        let started = ContinuousClock.now
        let response = await service.handle(Fixture.post("/free", "{\"dataset\":\"mnist\"}"))
        #expect(ContinuousClock.now - started < .seconds(10), "an answer, not a hang")
        #expect(response.status == .serviceUnavailable)
        #expect(try Fixture.json(response)["reason"] == "ClusterUnreachable")

        let health = await service.handle(HTTPRequest(method: .get, path: "/healthz"))
        #expect(health.status == .ok)
        let ready = await service.handle(HTTPRequest(method: .get, path: "/readyz"))
        #expect(ready.status == .serviceUnavailable)
    }

    @Test("/readyz is ready when the cluster answers")
    func ready() async throws {
        let api = try FakeAPIServer()
        let ready = await try Fixture.service(server: api.url).handle(HTTPRequest(method: .get, path: "/readyz"))
        #expect(ready.status == .ok)
        #expect(try Fixture.json(ready)["cluster"] == "v1.32.0-test")
        await api.server.stop()
    }

    @Test("job names are DNS-1123 labels of at most 63 characters that do not repeat")
    func jobNames() {
        let names = (0..<2000).map { _ in TierService.jobName(tier: "premium") }
        #expect(Set(names).count == names.count)
        #expect(names.allSatisfy { $0.count <= 63 && $0.wholeMatch(of: /[a-z0-9]([-a-z0-9]*[a-z0-9])?/) != nil })
    }

    @Test("each tier's Role grants exactly the calls the service makes", arguments: ["free", "premium"])
    func roleMatchesCode(tier: String) throws {
        let text = try String(
            contentsOf: Fixture.root.appendingPathComponent("Manifests/\(tier)-tier-rbac.yaml"), encoding: .utf8)
        let documents = try YAMLParser.parseDocuments(text)
        let role = try #require(documents.first { $0["kind"]?.stringValue == "Role" })
        guard case .sequence(let rules)? = role["rules"] else {
            Issue.record("the Role has no rules")
            return
        }
        var granted: [String] = []
        for rule in rules {
            for group in strings(rule["apiGroups"]) {
                for resource in strings(rule["resources"]) {
                    for verb in strings(rule["verbs"]) { granted.append("\(group)/\(resource)/\(verb)") }
                }
            }
        }
        let used = TierService.requiredPermissions.map { "\($0.group)/\($0.resource)/\($0.verb)" }
        #expect(granted.sorted() == used.sorted())
    }

    func strings(_ value: YAMLValue?) -> [String] {
        guard case .sequence(let items)? = value else { return [] }
        return items.compactMap(\.stringValue)
    }
}
