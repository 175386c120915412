import EnvoyConfig
import Foundation
import HTTPProxy
import HTTPTypes
import Logging
import Synchronization

/// Envoy's local stand-in: serves one listener of an Envoy config file and proxies each request to the
/// cluster its route names, with the route's timeout.
///
/// Answers Envoy gives on its own: no route is 404, an upstream that cannot be reached is 503, and an
/// upstream slower than the route's timeout is 504. Unlike Envoy, whose bodies are plain text, these
/// carry a JSON body `{"error": ...}`.
public final class Gateway: ProxyHandler {
    /// How the gateway is set up.
    public struct Configuration: Sendable {
        /// The parsed Envoy config.
        public var envoy: EnvoyConfig
        /// Which of its listeners to serve; the first by default.
        public var listenerName: String?
        /// Where to listen. The config's own address (usually 0.0.0.0) is for the container; on one machine
        /// the gateway listens on loopback at the config's port unless told otherwise.
        public var listen: SocketAddress?
        /// Cluster endpoint host names mapped to local addresses, such as
        /// `free-tier-service.free-service.svc.cluster.local` to `127.0.0.1:5001`.
        public var resolve: [String: SocketAddress]
        /// Event-loop threads serving connections; one per CPU by default (Envoy's `--concurrency`).
        public var concurrency: Int
        /// Where request lines go.
        public var logger: Logger

        /// Creates a configuration.
        public init(
            envoy: EnvoyConfig, listenerName: String? = nil, listen: SocketAddress? = nil,
            resolve: [String: SocketAddress] = [:], concurrency: Int = ProcessInfo.processInfo.activeProcessorCount,
            logger: Logger = Logger(label: "gateway")
        ) {
            self.envoy = envoy
            self.listenerName = listenerName
            self.listen = listen
            self.resolve = resolve
            self.concurrency = concurrency
            self.logger = logger
        }
    }

    private let configuration: Configuration
    private let router: Router
    private let listener: Listener
    /// Each cluster's endpoints as IPv4 addresses, resolved once at start-up (`--resolve` first, then the system
    /// resolver); an endpoint that did not resolve keeps the reason, answered as 503.
    private let endpoints: [String: [ResolvedEndpoint]]
    /// Which cluster an endpoint address belongs to, for log lines and error bodies.
    private let clusterByEndpoint: [String: String]
    private let roundRobin: RoundRobin
    private let requestIDs = RequestIDGenerator()

    /// Prepares a gateway; `start()` begins serving.
    ///
    /// - Throws: `GatewayError.unknownListener` when `listenerName` names no listener.
    public init(configuration: Configuration) throws(GatewayError) {
        let listeners = configuration.envoy.listeners
        guard
            let listener = configuration.listenerName.map({ name in listeners.first { $0.name == name } })
                ?? listeners.first
        else {
            throw GatewayError.unknownListener(configuration.listenerName ?? "", known: listeners.map(\.name))
        }
        self.configuration = configuration
        self.listener = listener
        self.router = Router(configuration: listener.routeConfiguration)
        self.roundRobin = RoundRobin(clusters: configuration.envoy.clusters.keys)
        self.endpoints = configuration.envoy.clusters.mapValues { cluster in
            cluster.endpoints.map { endpoint in
                ResolvedEndpoint(endpoint, mapped: configuration.resolve[endpoint.address])
            }
        }
        var clusterByEndpoint: [String: String] = [:]
        for (cluster, resolved) in endpoints.sorted(by: { $0.key < $1.key }) {
            for endpoint in resolved {
                if let host = endpoint.host, clusterByEndpoint["\(host):\(endpoint.port)"] == nil {
                    clusterByEndpoint["\(host):\(endpoint.port)"] = cluster
                }
            }
        }
        self.clusterByEndpoint = clusterByEndpoint
        for (cluster, resolved) in endpoints {
            for endpoint in resolved where endpoint.host == nil {
                configuration.logger.warning(
                    "endpoint unresolved", ["cluster": cluster, "endpoint": "\(endpoint.name)", "hint": "--resolve"])
            }
        }
    }

    /// Starts listening.
    ///
    /// - Returns: the server, whose `port` is the bound port and whose `stop()` ends serving.
    public func start() throws(ProxyServerError) -> ProxyServer {
        let address = configuration.listen ?? SocketAddress(address: "127.0.0.1", port: listener.address.port)
        let server = try ProxyServer(
            configuration: ProxyServer.Configuration(
                host: address.address, port: UInt16(clamping: address.port), eventLoops: configuration.concurrency,
                idleTimeout: .seconds(15),
                maxBodySize: 16 << 20, logger: configuration.logger),
            handler: self)
        configuration.logger.info(
            "listening",
            ["address": "\(address.address):\(server.port)", "listener": listener.name, "clusters": endpoints.count])
        return server
    }

    // MARK: - ProxyHandler

    /// Routes one request: a direct response, a 404, a 503 for a cluster without a usable endpoint, or the
    /// upstream request with its rewritten path, its request id and `x-forwarded-*` fields.
    public func decide(_ request: ProxyRequest) -> ProxyDecision {
        let requestID = request.headers["x-request-id"] ?? requestIDs.next()
        let responseHeaders: HTTPHeaders = ["x-request-id": requestID]
        guard case (_, let route)? = router.route(host: request.headers["host"], target: request.target) else {
            return .respond(
                Self.json(["error": "no route matches \(request.path)"], status: .notFound, requestID: requestID))
        }
        switch route.action {
        case .directResponse(let status, let body):
            var headers = responseHeaders
            headers["content-type"] = "application/json"
            return .respond(ProxyResponse(status: HTTPStatus(code: status), headers: headers, body: Array(body.utf8)))
        case .forward(let forward):
            guard let cluster = configuration.envoy.clusters[forward.cluster],
                let candidates = endpoints[forward.cluster], !candidates.isEmpty
            else {
                return .respond(
                    Self.json(
                        ["error": "cluster \(forward.cluster) has no endpoints", "cluster": forward.cluster],
                        status: .serviceUnavailable, requestID: requestID))
            }
            let endpoint = candidates[roundRobin.next(for: cluster.name, count: candidates.count)]
            guard let host = endpoint.host else {
                return .respond(
                    Self.json(
                        [
                            "error": "upstream connect error: cannot resolve \(endpoint.name.address)",
                            "cluster": cluster.name, "upstream": "\(endpoint.name)",
                        ],
                        status: .serviceUnavailable, requestID: requestID))
            }

            var target = request.target
            if let rewrite = forward.prefixRewrite, target.hasPrefix(route.match.matchedPrefix) {
                target = rewrite + target.dropFirst(route.match.matchedPrefix.count)
            }
            var headers = request.headers
            headers["x-request-id"] = requestID
            headers["x-forwarded-proto"] = "http"
            if let remote = request.remoteAddress.split(separator: ":").first {
                // Every X-Forwarded-For the client sent, in order, then the client itself.
                let earlier = request.headers.values(for: "x-forwarded-for")
                headers["x-forwarded-for"] = (earlier + [String(remote)]).joined(separator: ", ")
            }
            return .forward(
                UpstreamRequest(
                    host: host, port: endpoint.port, method: request.method, target: target, headers: headers,
                    body: request.body, connectTimeout: cluster.connectTimeout, timeout: forward.timeout,
                    responseHeaders: responseHeaders))
        }
    }

    /// Envoy's answers when an upstream gives none: 504 once the route's timeout has passed, 503 otherwise.
    public func answer(_ failure: UpstreamFailure, request: ProxyRequest, upstream: UpstreamRequest) -> ProxyResponse {
        let requestID = upstream.responseHeaders["x-request-id"] ?? ""
        let cluster = clusterName(of: upstream)
        switch failure.kind {
        case .timedOut:
            return Self.json(
                ["error": "upstream request timeout", "cluster": cluster], status: .gatewayTimeout, requestID: requestID
            )
        case .connectFailed, .connectTimedOut, .reset, .invalidResponse:
            let summary =
                failure.kind == .connectFailed || failure.kind == .connectTimedOut
                ? "upstream connect error: \(failure.detail)" : "upstream reset: \(failure.detail)"
            return Self.json(
                ["error": summary, "cluster": cluster, "upstream": "\(upstream.host):\(upstream.port)"],
                status: .serviceUnavailable, requestID: requestID)
        }
    }

    /// Writes the request's line: one per request, with its id, route outcome and duration.
    public func finished(_ request: ProxyRequest, decision: ProxyDecision, outcome: ProxyOutcome) {
        guard configuration.logger.level <= .info else { return }
        var logger = configuration.logger
        switch decision {
        case .respond(let response):
            logger = logger.with("request_id", response.headers["x-request-id"] ?? "-")
        case .forward(let upstream):
            logger = logger.with("request_id", upstream.responseHeaders["x-request-id"] ?? "-")
                .with("cluster", clusterName(of: upstream))
        }
        if let failure = outcome.failure { logger = logger.with("upstream_failure", failure.kind.rawValue) }
        if !outcome.completed { logger = logger.with("completed", false) }
        logger.info(
            "request",
            [
                "method": request.method.rawValue, "path": request.path,
                "status": outcome.status.map { String($0.code) } ?? "-",
                "ms": String(format: "%.1f", outcome.elapsed / .milliseconds(1)),
            ])
    }

    /// Gives a request the proxy refused (malformed, too large, too slow) a request id, and its log line.
    public func refused(_ response: ProxyResponse, remoteAddress: String) -> ProxyResponse {
        var answer = response
        let requestID = requestIDs.next()
        answer.headers["x-request-id"] = requestID
        configuration.logger.with("request_id", requestID).info(
            "request refused",
            [
                "remote": remoteAddress, "status": response.status.code,
                "error": String(decoding: response.body, as: UTF8.self),
            ])
        return answer
    }

    private func clusterName(of upstream: UpstreamRequest) -> String {
        clusterByEndpoint["\(upstream.host):\(upstream.port)"] ?? "-"
    }

    private static func json(_ fields: [String: String], status: HTTPStatus, requestID: String) -> ProxyResponse {
        var response = ProxyResponse.json(fields, status: status)
        response.headers["x-request-id"] = requestID
        return response
    }
}

/// A cluster endpoint and the IPv4 address it resolved to, if it did.
struct ResolvedEndpoint: Sendable {
    /// The endpoint as the config names it.
    let name: SocketAddress
    /// The IPv4 literal to connect to; nil when the name did not resolve.
    let host: String?
    /// The port to connect to (the mapped one under `--resolve`).
    let port: Int

    init(_ endpoint: SocketAddress, mapped: SocketAddress?) {
        let target = mapped ?? endpoint
        self.name = endpoint
        self.port = target.port
        self.host = Self.ipv4(target.address)
    }

    /// `name` itself when it is an IPv4 literal, else the system resolver's first IPv4 address for it.
    static func ipv4(_ name: String) -> String? {
        var probe = in_addr()
        if inet_pton(AF_INET, name, &probe) == 1 { return name }
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &results) == 0, let first = results else { return nil }
        defer { freeaddrinfo(results) }
        guard let address = first.pointee.ai_addr else { return nil }
        var ipv4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &ipv4, &text, socklen_t(INET_ADDRSTRLEN)) != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Why a gateway cannot start.
public enum GatewayError: Error, Equatable, CustomStringConvertible {
    /// The listener asked for is not in the config.
    case unknownListener(String, known: [String])

    /// What is wrong and what the config has.
    public var description: String {
        switch self {
        case .unknownListener(let name, let known):
            "the config has no listener named \"\(name)\" (listeners: \(known.joined(separator: ", ")))"
        }
    }
}

/// The next endpoint index per cluster, without a lock: one atomic counter per cluster, made at start-up.
private final class RoundRobin: Sendable {
    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    private let counters: [String: Counter]

    init(clusters: some Sequence<String>) {
        counters = Dictionary(uniqueKeysWithValues: clusters.map { ($0, Counter()) })
    }

    func next(for cluster: String, count: Int) -> Int {
        guard count > 1, let counter = counters[cluster] else { return 0 }
        let value = counter.value.wrappingAdd(1, ordering: .relaxed).oldValue
        return Int(UInt(bitPattern: value) % UInt(count))
    }
}
