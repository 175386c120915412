import EnvoyConfig
import Foundation
import HTTPClient
import HTTPServer
import HTTPTypes
import Logging
import Synchronization

/// Envoy's local stand-in: serves one listener of an Envoy config file and proxies each request to the
/// cluster its route names, with the route's timeout.
///
/// Answers Envoy gives on its own: no route is 404, an upstream that cannot be reached is 503, and an
/// upstream slower than the route's timeout is 504. Unlike Envoy, whose bodies are plain text, these
/// carry a JSON body `{"error": ...}`.
public final class Gateway: Sendable {
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
        /// Where request lines go.
        public var logger: Logger

        /// Creates a configuration.
        public init(
            envoy: EnvoyConfig, listenerName: String? = nil, listen: SocketAddress? = nil,
            resolve: [String: SocketAddress] = [:], logger: Logger = Logger(label: "gateway")
        ) {
            self.envoy = envoy
            self.listenerName = listenerName
            self.listen = listen
            self.resolve = resolve
            self.logger = logger
        }
    }

    private let configuration: Configuration
    private let router: Router
    private let listener: Listener
    /// One client per cluster, so each keeps its own connect timeout and pooled connections.
    private let clients: [String: HTTPClient]
    private let roundRobin = RoundRobin()

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
        self.clients = configuration.envoy.clusters.mapValues { cluster in
            HTTPClient(configuration: HTTPClient.Configuration(connectTimeout: cluster.connectTimeout))
        }
    }

    /// Starts listening.
    ///
    /// - Returns: the server, whose `port` is the bound port and whose `stop()` ends serving.
    public func start() throws(HTTPServerError) -> HTTPServer {
        let address = configuration.listen ?? SocketAddress(address: "127.0.0.1", port: listener.address.port)
        // Each connection has its own thread and a proxied request only waits on its upstream, so requests are
        // answered on that thread: no task and no thread hand-off per request.
        let server = try HTTPServer(
            configuration: HTTPServer.Configuration(
                host: address.address, port: UInt16(address.port), connectionTimeout: .seconds(15),
                maxBodySize: 16 << 20, logger: configuration.logger),
            blockingHandler: { [self] request in handle(request) })
        configuration.logger.info(
            "listening",
            ["address": "\(address.address):\(server.port)", "listener": listener.name, "clusters": clients.count])
        return server
    }

    /// Routes and answers one request; the server calls this, and tests may call it directly.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let started = ContinuousClock.now
        let requestID = request.headers["x-request-id"] ?? UUID().uuidString.lowercased()
        let target = request.path + Self.encodedQuery(request.query)
        var logger = configuration.logger.with("request_id", requestID)

        let response: HTTPResponse
        var cluster = "-"
        switch router.route(host: request.headers["host"], target: target) {
        case nil:
            response = .json(["error": "no route matches \(request.path)"], status: .notFound)
        case (_, let route)?:
            switch route.action {
            case .directResponse(let status, let body):
                response = HTTPResponse(
                    status: HTTPStatus(code: status), headers: ["content-type": "application/json"],
                    body: .bytes(Array(body.utf8)))
            case .forward(let forward):
                cluster = forward.cluster
                logger = logger.with("cluster", cluster)
                response = proxy(request, target: target, route: route, forward: forward, requestID: requestID)
            }
        }

        var answered = response
        answered.headers["x-request-id"] = requestID
        let milliseconds = (ContinuousClock.now - started) / .milliseconds(1)
        logger.info(
            "request",
            [
                "method": request.method.rawValue, "path": request.path, "status": answered.status.code,
                "ms": String(format: "%.1f", milliseconds),
            ])
        return answered
    }

    private func proxy(
        _ request: HTTPRequest, target: String, route: Route, forward: RouteAction.Forward, requestID: String
    ) -> HTTPResponse {
        guard let cluster = configuration.envoy.clusters[forward.cluster], let client = clients[forward.cluster] else {
            return .json(["error": "cluster \(forward.cluster) is not defined"], status: .serviceUnavailable)
        }
        let endpoint = cluster.endpoints[roundRobin.next(for: cluster.name, count: cluster.endpoints.count)]
        let upstream = configuration.resolve[endpoint.address] ?? endpoint

        var path = target
        if let rewrite = forward.prefixRewrite, path.hasPrefix(route.match.matchedPrefix) {
            path = rewrite + path.dropFirst(route.match.matchedPrefix.count)
        }
        var headers = HTTPHeaders()
        for field in request.headers where !Self.hopByHop.contains(field.name.lowercased()) {
            headers.add(name: field.name, value: field.value)
        }
        headers["x-request-id"] = requestID
        headers["x-forwarded-proto"] = "http"
        if let remote = request.remoteAddress?.split(separator: ":").first {
            let forwarded = request.headers["x-forwarded-for"].map { "\($0), \(remote)" } ?? String(remote)
            headers["x-forwarded-for"] = forwarded
        }
        let upstreamRequest = HTTPClientRequest(
            method: request.method, url: "http://\(upstream.address):\(upstream.port)\(path)", headers: headers,
            body: request.body, timeout: forward.timeout ?? .seconds(3600))

        let started = ContinuousClock.now
        do {
            let answer = try client.sendBlocking(upstreamRequest)
            var responseHeaders = HTTPHeaders()
            for field in answer.headers
            where !Self.hopByHop.contains(field.name.lowercased()) && field.name.lowercased() != "content-length" {
                responseHeaders.add(name: field.name, value: field.value)
            }
            return HTTPResponse(status: answer.status, headers: responseHeaders, body: .bytes(answer.body))
        } catch {
            let elapsed = ContinuousClock.now - started
            // curl reports a slow connect and a slow answer alike. Like Envoy, running out of the route's
            // timeout is 504; failing to connect before it is 503.
            if error.code == .timedOut, let timeout = forward.timeout, elapsed >= timeout * 0.95 {
                return .json(["error": "upstream request timeout", "cluster": cluster.name], status: .gatewayTimeout)
            }
            return .json(
                [
                    "error": "upstream connect error: \(error.code.summary)", "cluster": cluster.name,
                    "upstream": "\(upstream)",
                ],
                status: .serviceUnavailable)
        }
    }

    /// Header fields that describe one connection and are never forwarded (RFC 9110, section 7.6.1).
    private static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade",
    ]

    /// The query string, re-encoded from its decoded items, with its leading `?`; empty when there is none.
    static func encodedQuery(_ items: [HTTPRequest.QueryItem]) -> String {
        guard !items.isEmpty else { return "" }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        func encode(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
        }
        return "?" + items.map { "\(encode($0.name))=\(encode($0.value))" }.joined(separator: "&")
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

/// The next endpoint index per cluster.
private final class RoundRobin: Sendable {
    // Protects the counters; requests from many server threads advance them.
    private let counters = Mutex<[String: Int]>([:])

    func next(for cluster: String, count: Int) -> Int {
        counters.withLock { counters in
            let value = counters[cluster, default: 0]
            counters[cluster] = value &+ 1
            return value % max(count, 1)
        }
    }
}
