import Foundation
import HTTPClient
import HTTPTypes
import Kubernetes
import Logging

/// A client for the Kubernetes REST API: typed calls for the resources tierserve uses (Jobs, Pods, logs,
/// ResourceQuotas, Events, access reviews), a generic core over `ResourcePath` for the rest, and watches that
/// recover from expired resource versions and dropped connections.
///
/// Every call has a deadline: the client's `timeout` unless the call passes its own. Errors are
/// `KubernetesClientError`: the server's `Status`, a transport failure naming the server, or an answer that is
/// not what an API server sends.
///
/// ```swift
/// let client = try KubernetesClient(configuration: .resolve())
/// let job = try await client.create(job: job, in: "free")
/// ```
public final class KubernetesClient: Sendable {
    /// Where the server is and how the client authenticates.
    public let configuration: KubernetesConfiguration
    /// The deadline of a call that sets none.
    public let timeout: Duration

    let http: HTTPClient
    let tokens: BearerTokenSource
    /// Debug lines only: one per request with its method, path, status and duration.
    let logger: Logger

    /// A client for `configuration`.
    ///
    /// - Parameters:
    ///   - timeout: the deadline of each call that sets none; watches are not bound by it.
    ///   - logger: where request lines go, at debug level; by default nowhere.
    public init(
        configuration: KubernetesConfiguration, timeout: Duration = .seconds(10),
        logger: Logger = Logger(label: "kubernetes-client", level: .error)
    ) {
        self.configuration = configuration
        self.timeout = timeout
        self.logger = logger
        self.tokens = BearerTokenSource(credentials: configuration.credentials)
        let tls = HTTPClient.TLS(
            trustedCertificates: configuration.trustedCertificates,
            clientCertificatePEM: configuration.clientCertificatePEM, clientKeyPEM: configuration.clientKeyPEM,
            verifiesPeer: !configuration.skipsTLSVerification)
        self.http = HTTPClient(
            configuration: HTTPClient.Configuration(
                connectTimeout: min(timeout, .seconds(5)), timeout: timeout, tls: tls))
    }

    // MARK: - The generic core

    /// Reads the object at `path` as `type`.
    ///
    /// - Throws: `KubernetesClientError`; `.api` with `isNotFound` when there is no such object.
    public func get<T: Decodable>(
        _ type: T.Type, at path: ResourcePath, query: [(name: String, value: String)] = [], timeout: Duration? = nil
    ) async throws(KubernetesClientError) -> T {
        let response = try await send(.get, path.path, query: query, timeout: timeout)
        return try decode(type, from: response.body, method: .get, path: path.path)
    }

    /// Lists the collection at `path`, optionally filtered by labels and fields.
    ///
    /// - Throws: `KubernetesClientError`.
    public func list<T: Codable & Sendable>(
        _ type: T.Type, at path: ResourcePath, labelSelector: LabelSelectorQuery? = nil, fieldSelector: String? = nil,
        timeout: Duration? = nil
    ) async throws(KubernetesClientError) -> KubernetesList<T> {
        let query = Self.selectorQuery(labelSelector: labelSelector, fieldSelector: fieldSelector)
        return try await get(KubernetesList<T>.self, at: path, query: query, timeout: timeout)
    }

    /// Creates `object` in the collection at `path` and returns it as the server stored it (with its name,
    /// when the object gave only `generateName`).
    ///
    /// - Throws: `KubernetesClientError`; `.api` with `isAlreadyExists`, `isForbidden` (RBAC or quota) or
    ///   `isInvalid`.
    public func create<T: Codable>(
        _ object: T, at path: ResourcePath, timeout: Duration? = nil
    ) async throws(KubernetesClientError) -> T {
        try await post(object, at: path, returning: T.self, timeout: timeout)
    }

    /// Posts `body` to `path` and decodes the answer as `type`; for create-only resources such as reviews.
    ///
    /// - Throws: `KubernetesClientError`.
    public func post<Body: Encodable, T: Decodable>(
        _ body: Body, at path: ResourcePath, returning type: T.Type, timeout: Duration? = nil
    ) async throws(KubernetesClientError) -> T {
        let bytes: [UInt8]
        do {
            bytes = Array(try JSONEncoder().encode(body))
        } catch {
            throw .invalidRequest("the \(path.resource) object does not encode as JSON: \(error)")
        }
        let response = try await send(.post, path.path, body: bytes, timeout: timeout)
        return try decode(type, from: response.body, method: .post, path: path.path)
    }

    /// Deletes the object at `path`, telling the server what to do with its dependents.
    ///
    /// - Throws: `KubernetesClientError`; `.api` with `isNotFound` when it was already gone.
    public func delete(
        at path: ResourcePath, propagation: DeletePropagation = .background, timeout: Duration? = nil
    ) async throws(KubernetesClientError) {
        _ = try await send(
            .delete, path.path, query: [("propagationPolicy", propagation.rawValue)], timeout: timeout)
    }

    /// Sends one request and returns its answer when the status is 2xx.
    ///
    /// - Parameters:
    ///   - path: the URL path, such as `/version`.
    ///   - accept: the media type asked for; JSON unless reading logs.
    /// - Throws: `KubernetesClientError` for a transport failure or any non-2xx answer.
    public func send(
        _ method: HTTPMethod, _ path: String, query: [(name: String, value: String)] = [], body: [UInt8] = [],
        accept: String = "application/json", timeout: Duration? = nil
    ) async throws(KubernetesClientError) -> HTTPClientResponse {
        var request = try await makeRequest(method, path, query: query, accept: accept)
        request.body = body
        if !body.isEmpty { request.headers["Content-Type"] = "application/json" }
        request.timeout = timeout ?? self.timeout

        let started = ContinuousClock.now
        let response: HTTPClientResponse
        do {
            response = try await http.send(request)
        } catch {
            logger.debug(
                "request failed", ["method": method, "path": path, "error": error.code.summary, "ms": since(started)])
            throw .transport(error, server: configuration.server)
        }
        logger.debug(
            "request", ["method": method, "path": path, "status": response.status.code, "ms": since(started)])
        guard response.status.isSuccess else {
            throw Self.error(statusCode: response.status.code, body: response.body, method: method, path: path)
        }
        return response
    }

    // MARK: - Helpers shared with the typed calls and watches

    /// A request for `path` with the server's URL, the query, `Accept` and the bearer token.
    func makeRequest(
        _ method: HTTPMethod, _ path: String, query: [(name: String, value: String)], accept: String
    ) async throws(KubernetesClientError) -> HTTPClientRequest {
        var url = configuration.server + path
        if !query.isEmpty { url += "?" + QueryString.encode(query) }
        var request = HTTPClientRequest(method: method, url: url)
        request.headers["Accept"] = accept
        request.headers["User-Agent"] = "tierserve-kubernetes-client"
        let token: String?
        do {
            token = try await tokens.token()
        } catch {
            throw .credentials(error)
        }
        if let token { request.setBearerToken(token) }
        return request
    }

    /// Decodes a 2xx body; a body that does not fit is an error, never a crash.
    func decode<T: Decodable>(
        _ type: T.Type, from body: [UInt8], method: HTTPMethod, path: String
    ) throws(KubernetesClientError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            throw .invalidResponse(method: method.rawValue, path: path, detail: "\(error)")
        }
    }

    /// The error an unsuccessful answer stands for: its `Status` when the body is one, otherwise the status
    /// code and the start of the body.
    static func error(statusCode: Int, body: [UInt8], method: HTTPMethod, path: String) -> KubernetesClientError {
        if var status = try? JSONDecoder().decode(Status.self, from: Data(body)),
            status.kind == "Status" || status.reason != nil || status.message != nil
        {
            if status.code == nil { status.code = statusCode }
            return .api(status)
        }
        return .unexpectedResponse(
            statusCode: statusCode, method: method.rawValue, path: path, excerpt: excerpt(of: body))
    }

    /// The first 200 characters of `body` on one line.
    static func excerpt(of body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(400), as: UTF8.self)
        let oneLine = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return oneLine.count > 200 ? String(oneLine.prefix(200)) + "…" : oneLine
    }

    static func selectorQuery(
        labelSelector: LabelSelectorQuery?, fieldSelector: String?
    ) -> [(name: String, value: String)] {
        var query: [(name: String, value: String)] = []
        if let labelSelector, !labelSelector.isEmpty { query.append(("labelSelector", labelSelector.description)) }
        if let fieldSelector, !fieldSelector.isEmpty { query.append(("fieldSelector", fieldSelector)) }
        return query
    }

    func since(_ start: ContinuousClock.Instant) -> Int {
        let elapsed = ContinuousClock.now - start
        return Int(elapsed.components.seconds) * 1000 + Int(elapsed.components.attoseconds / 1_000_000_000_000_000)
    }
}
