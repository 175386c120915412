import EnvoyConfig
import Foundation
import Gateway
import HTTPClient
import HTTPProxy
import HTTPServer
import HTTPTypes
import Logging
import Testing

/// The gateway in front of real upstream servers on loopback.
@Suite struct GatewayTests {
    /// Routes of the shape the project uses, plus a rewrite, with a short timeout for the slow path.
    static let routes = """
                    - match: { path: /healthz }
                      direct_response: { status: 200, body: { inline_string: "{\\"status\\":\\"ok\\"}" } }
                    - match: { path_separated_prefix: /free }
                      route: { cluster: free, timeout: 30s }
                    - match: { path_separated_prefix: /slow }
                      route: { cluster: free, timeout: 0.5s }
                    - match: { path_separated_prefix: /old }
                      route: { cluster: free, prefix_rewrite: /free }
                    - match: { path_separated_prefix: /down }
                      route: { cluster: down }
        """
    static let clusters = """
            - name: free
              connect_timeout: 1s
              load_assignment:
                cluster_name: free
                endpoints:
                  - lb_endpoints:
                      - endpoint: { address: { socket_address: { address: free.test, port_value: 5000 } } }
            - name: down
              connect_timeout: 1s
              load_assignment:
                cluster_name: down
                endpoints:
                  - lb_endpoints:
                      - endpoint: { address: { socket_address: { address: down.test, port_value: 5000 } } }
        """

    /// Starts an upstream that echoes what it received, and a gateway routing to it; stops both after `body`.
    func withGateway(_ body: (_ port: UInt16, _ client: HTTPClient) async throws -> Void) async throws {
        let upstream = try HTTPServer(
            configuration: .init(host: "127.0.0.1", port: 0, logger: Logger(label: "upstream", level: .error))
        ) {
            request in
            if request.path.hasPrefix("/slow") { try? await Task.sleep(for: .seconds(8)) }
            let echo: [String: String] = [
                "method": request.method.rawValue, "path": request.path,
                "query": request.query.map { "\($0.name)=\($0.value)" }.joined(separator: "&"),
                "body": String(decoding: request.body, as: UTF8.self),
                "request_id": request.headers["x-request-id"] ?? "", "host": request.headers["host"] ?? "",
                "forwarded_for": request.headers.values(for: "x-forwarded-for").joined(separator: ", "),
            ]
            return .json(echo, status: 201)
        }
        // A port that was free a moment ago and is closed now: nothing listens there.
        let closed = try HTTPServer(
            configuration: .init(host: "127.0.0.1", port: 0, logger: Logger(label: "closed", level: .error))
        ) { _ in .text("") }
        let closedPort = closed.port
        await closed.stop()

        let envoy = try EnvoyConfig(yaml: envoyYAML(routes: Self.routes, clusters: Self.clusters))
        let gateway = try Gateway(
            configuration: .init(
                envoy: envoy, listen: SocketAddress(address: "127.0.0.1", port: 0),
                resolve: [
                    "free.test": SocketAddress(address: "127.0.0.1", port: Int(upstream.port)),
                    "down.test": SocketAddress(address: "127.0.0.1", port: Int(closedPort)),
                ],
                logger: Logger(label: "gateway", level: .error)))
        let server = try gateway.start()
        do {
            try await body(server.port, HTTPClient())
        } catch {
            await server.stop()
            await upstream.stop()
            throw error
        }
        await server.stop()
        await upstream.stop()
    }

    func echo(_ response: HTTPClientResponse) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(response.body))
    }

    @Test("a routed request reaches the upstream with its method, path, query, body and a request id")
    func forwards() async throws {
        try await withGateway { port, client in
            var request = HTTPClientRequest(
                method: .post, url: "http://127.0.0.1:\(port)/free/predict?limit=2&tag=a%20b")
            request.body = Array("{\"dataset\":\"mnist\"}".utf8)
            request.headers["x-request-id"] = "req-42"
            let response = try await client.send(request)
            #expect(response.status == 201)
            let echo = try echo(response)
            #expect(echo["method"] == "POST")
            #expect(echo["path"] == "/free/predict")
            #expect(echo["query"] == "limit=2&tag=a b")
            #expect(echo["body"] == "{\"dataset\":\"mnist\"}")
            #expect(echo["request_id"] == "req-42")
            #expect(response.headers["x-request-id"] == "req-42")
        }
    }

    @Test("paths that only share letters with a tier, and unknown paths, are 404 with a JSON error")
    func unrouted() async throws {
        try await withGateway { port, client in
            for path in ["/freebie", "/premiumplus", "/", "/free-x"] {
                let response = try await client.send(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"))
                #expect(response.status == 404, "\(path)")
                #expect(response.headers["content-type"]?.hasPrefix("application/json") == true)
                #expect(response.text.contains("no route matches"))
            }
        }
    }

    @Test("a client cannot strip the gateway's fields by naming them in Connection; every X-Forwarded-For is kept")
    func addedFieldsStay() async throws {
        try await withGateway { port, client in
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/free/x")
            request.headers["connection"] = "keep-alive, x-request-id, x-forwarded-for"
            request.headers["x-request-id"] = "chosen-by-client"
            request.headers.add(name: "x-forwarded-for", value: "1.1.1.1")
            request.headers.add(name: "x-forwarded-for", value: "2.2.2.2")
            let echo = try echo(try await client.send(request))
            #expect(echo["request_id"]?.count == 36, "a fresh id: the client's was a connection option")
            #expect(echo["forwarded_for"] == "127.0.0.1", "the client's were connection options too")

            var plain = HTTPClientRequest(url: "http://127.0.0.1:\(port)/free/x")
            plain.headers.add(name: "x-forwarded-for", value: "1.1.1.1")
            plain.headers.add(name: "x-forwarded-for", value: "2.2.2.2")
            #expect(try self.echo(try await client.send(plain))["forwarded_for"] == "1.1.1.1, 2.2.2.2, 127.0.0.1")
        }
    }

    @Test("routing looks at the path as sent: an encoded letter is not the letter, and the path goes on encoded")
    func rawPath() async throws {
        try await withGateway { port, client in
            let encoded = try await client.send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/fre%65"))
            #expect(encoded.status == 404, "Envoy does not decode %65 into e before matching")
            let forwarded = try await client.send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/free/a%2Fb"))
            #expect(forwarded.status == 201)
            #expect(try echo(forwarded)["path"] == "/free/a/b", "the upstream decodes what the gateway passed on")
        }
    }

    @Test("an unreachable upstream is 503 and a slow one is 504 after the route's timeout")
    func upstreamFailures() async throws {
        try await withGateway { port, client in
            let down = try await client.send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/down"))
            #expect(down.status == 503)
            #expect(down.text.contains("upstream connect error"))

            let started = ContinuousClock.now
            let slow = try await client.send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/slow"))
            let elapsed = ContinuousClock.now - started
            #expect(slow.status == 504)
            #expect(slow.text.contains("upstream request timeout"))
            #expect(elapsed < .seconds(6), "the route's 0.5 s timeout, not the upstream's 8 s")
        }
    }

    @Test("prefix_rewrite replaces the matched prefix; direct_response answers without an upstream")
    func rewriteAndDirect() async throws {
        try await withGateway { port, client in
            let rewritten = try await client.send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/old/x"))
            #expect(try echo(rewritten)["path"] == "/free/x")
            let health = try await client.send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"))
            #expect(health.status == 200)
            #expect(health.text == "{\"status\":\"ok\"}")
        }
    }
}
