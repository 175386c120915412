import Foundation
import HTTPServer
import HTTPTypes
import Inference
import Kubernetes
import KubernetesClient
import Logging

/// One tier's HTTP service: `POST /<tier>` creates a Job that scores the tier's dataset, `POST
/// /<tier>/predict` one that classifies the images sent, each answered with the Job's name as the
/// reference deployment did: `{"job_name": "free-job-…", "status": "submitted"}`.
///
/// It reaches the cluster only through the Kubernetes API, with the tier's own service account, so it
/// behaves the same against EKS and the local cluster.
public final class TierService: Sendable {
    /// How the service is set up.
    public struct Configuration: Sendable {
        /// `free` or `premium`: the path the service answers under and the prefix of its Job names.
        public var tier: String
        /// The namespace its Jobs are created in.
        public var namespace: String
        /// The Job to create per request.
        public var template: JobTemplate
        /// The largest request body accepted; a batch of 64 PNG or pixel images fits well within it.
        public var maximumBodyBytes: Int
        /// Where request lines go.
        public var logger: Logger

        /// Creates a configuration.
        public init(
            tier: String, namespace: String, template: JobTemplate, maximumBodyBytes: Int = 1 << 20,
            logger: Logger = Logger(label: "tier")
        ) {
            self.tier = tier
            self.namespace = namespace
            self.template = template
            self.maximumBodyBytes = maximumBodyBytes
            self.logger = logger
        }
    }

    /// The Kubernetes calls the service makes, which its Role must allow and should allow nothing more:
    /// (API group, resource, verb).
    public static let requiredPermissions: [(group: String, resource: String, verb: String)] = [
        ("batch", "jobs", "create")
    ]

    /// The answer to a request that created a Job.
    public struct Submitted: Codable, Sendable, Equatable {
        /// The Job's name.
        public let jobName: String
        /// Always `submitted`.
        public let status: String
        /// The namespace the Job is in.
        public let namespace: String

        enum CodingKeys: String, CodingKey {
            case jobName = "job_name"
            case status, namespace
        }
    }

    private let configuration: Configuration
    private let client: KubernetesClient

    /// A service that creates Jobs through `client`.
    public init(configuration: Configuration, client: KubernetesClient) {
        self.configuration = configuration
        self.client = client
    }

    /// Starts serving on `host:port`.
    public func start(host: String, port: UInt16) throws(HTTPServerError) -> HTTPServer {
        let server = try HTTPServer(
            configuration: HTTPServer.Configuration(
                host: host, port: port, maxBodySize: configuration.maximumBodyBytes, logger: configuration.logger)
        ) { [self] request in
            await handle(request)
        }
        configuration.logger.info(
            "listening",
            [
                "address": "\(host):\(server.port)", "tier": configuration.tier, "namespace": configuration.namespace,
                "dataset": configuration.template.dataset,
            ])
        return server
    }

    /// Answers one request; the server calls this, and tests may call it directly.
    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let started = ContinuousClock.now
        let requestID = request.headers["x-request-id"] ?? UUID().uuidString.lowercased()
        let logger = configuration.logger.with("request_id", requestID)

        var jobName = "-"
        var response: HTTPResponse
        do throws(TierError) {
            switch try endpoint(for: request) {
            case .health:
                response = .json(["status": "ok", "tier": configuration.tier])
            case .readiness:
                response = await readiness()
            case .submit(let inline):
                let submitted = try await submit(request, inline: inline, requestID: requestID)
                jobName = submitted.jobName
                response = .json(submitted)
            }
        } catch {
            response = error.response
            if case .clusterRefused = error {
                logger.warning("cluster refused job", ["error": error.description])
            } else if case .clusterUnreachable = error {
                logger.warning("cluster unreachable", ["error": error.description])
            }
        }

        response.headers["x-request-id"] = requestID
        let milliseconds = (ContinuousClock.now - started) / .milliseconds(1)
        logger.info(
            "request",
            [
                "method": request.method.rawValue, "path": request.path, "status": response.status.code, "job": jobName,
                "ms": String(format: "%.1f", milliseconds),
            ])
        return response
    }

    private enum Endpoint {
        case health
        case readiness
        case submit(inline: Bool)
    }

    private func endpoint(for request: HTTPRequest) throws(TierError) -> Endpoint {
        let base = "/\(configuration.tier)"
        switch request.path {
        case "/healthz", "/readyz":
            guard request.method == .get else {
                throw .methodNotAllowed(method: request.method.rawValue, allowed: [.get])
            }
            return request.path == "/healthz" ? .health : .readiness
        case base, base + "/", base + "/predict":
            guard request.method == .post else {
                throw .methodNotAllowed(method: request.method.rawValue, allowed: [.post])
            }
            return .submit(inline: request.path.hasSuffix("/predict"))
        default:
            throw .notFound("no endpoint \(request.path); this tier answers POST \(base) and POST \(base)/predict")
        }
    }

    private func readiness() async -> HTTPResponse {
        do {
            let version = try await client.version(timeout: .seconds(2))
            return .json(["status": "ready", "cluster": version.gitVersion ?? "unknown"])
        } catch {
            return .json(["status": "unavailable", "error": error.description], status: .serviceUnavailable)
        }
    }

    /// Validates the request, then creates its Job.
    private func submit(_ request: HTTPRequest, inline: Bool, requestID: String) async throws(TierError) -> Submitted {
        let dataset = configuration.template.dataset
        let example = inline ? "{\"dataset\": \"\(dataset)\", \"images\": [...]}" : "{\"dataset\": \"\(dataset)\"}"

        // 1. A JSON object with exactly the fields this endpoint takes.
        let mediaType = request.headers["content-type"]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/json" else {
            throw .unsupportedMediaType(
                "Content-Type is \(request.headers["content-type"].map { "\"\($0)\"" } ?? "missing"); "
                    + "send application/json like \(example)")
        }
        guard !request.body.isEmpty else { throw .badRequest("the request body is empty; send \(example)") }
        guard let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any] else {
            throw .badRequest("the request body is not a JSON object; send \(example)")
        }
        let allowed: Set<String> = inline ? ["dataset", "images", "images_base64"] : ["dataset"]
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .badRequest("unknown field \"\(unknown)\"; send \(example)")
        }

        // 2. The dataset this tier serves.
        guard let requested = object["dataset"] else { throw .badRequest("\"dataset\" is missing; send \(example)") }
        guard let requestedName = requested as? String else {
            throw .badRequest("\"dataset\" must be a string; send \(example)")
        }
        guard requestedName == dataset else {
            throw .badRequest("the \(configuration.tier) tier serves \"\(dataset)\", not \"\(requestedName)\"")
        }

        // 3. For predictions, images the job will accept, re-encoded as plain pixel arrays.
        var inputs: String?
        if inline {
            guard object["images"] != nil || object["images_base64"] != nil else {
                throw .badRequest("\"images\" is missing; send \(example)")
            }
            let batch: ImageBatch
            do {
                batch = try ImageBatch(json: Data(request.body))
            } catch {
                throw .badRequest(error.message)
            }
            inputs = batch.packedJSON
        }

        // 4. The Job, under a fresh name; a name already taken (vanishingly rare) is retried.
        for _ in 0..<3 {
            let name = Self.jobName(tier: configuration.tier)
            do {
                let job = try configuration.template.job(named: name, requestID: requestID, inputs: inputs)
                _ = try await client.create(job, at: .jobs(in: configuration.namespace))
                return Submitted(jobName: name, status: "submitted", namespace: configuration.namespace)
            } catch let error as KubernetesClientError {
                if error.isAlreadyExists { continue }
                if let status = error.status {
                    throw .clusterRefused(
                        reason: status.reason ?? "Unknown", code: status.code ?? 0, message: status.message ?? "")
                }
                throw .clusterUnreachable("the cluster did not accept the job: \(error)")
            } catch {
                throw .clusterUnreachable("the job could not be built from its template: \(error)")
            }
        }
        throw .clusterRefused(reason: "AlreadyExists", code: 409, message: "three generated job names were taken")
    }

    /// `<tier>-job-` and ten random lowercase letters and digits: a DNS-1123 label of at most 63 characters
    /// with 36^10 possibilities.
    static func jobName(tier: String) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return "\(tier)-job-" + String((0..<10).map { _ in alphabet[Int(generator.next() % 36)] })
    }
}
