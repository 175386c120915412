import EnvoyConfig
import Foundation
import Testing

/// `text` with its common leading spaces replaced by `columns` spaces, so fragments nest where they belong.
func indented(_ text: String, by columns: Int) -> String {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.allSatisfy(\.isWhitespace) }
    let common = lines.map { $0.prefix { $0 == " " }.count }.min() ?? 0
    return lines.map { String(repeating: " ", count: columns) + $0.dropFirst(common) }.joined(separator: "\n")
}

/// A small config in Envoy's v3 shape, with the routes (and clusters, and connection manager fields) a test gives.
func envoyYAML(routes: String, clusters: String? = nil, managerExtra: String = "") -> String {
    let routes = indented(routes, by: 24)
    let clusters = indented(clusters ?? defaultClusters, by: 4)
    let managerExtra = indented(managerExtra, by: 16)
    return """
        static_resources:
          listeners:
            - name: public
              address:
                socket_address: { address: 0.0.0.0, port_value: 8080 }
              filter_chains:
                - filters:
                    - name: envoy.filters.network.http_connection_manager
                      typed_config:
                        "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                        stat_prefix: public
        \(managerExtra)
                        route_config:
                          name: local
                          virtual_hosts:
                            - name: all
                              domains: ["*"]
                              routes:
        \(routes)
          clusters:
        \(clusters)
        """
}

let defaultClusters = """
    - name: upstream
      connect_timeout: 1s
      load_assignment:
        cluster_name: upstream
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: upstream.test, port_value: 5000 }
    """

@Suite struct EnvoyConfigTests {
    @Test("the project's own Envoy config parses, with both tiers routed by path segment")
    func projectConfig() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Manifests/envoy/envoy.yaml"), encoding: .utf8)
        let config = try EnvoyConfig(yaml: text)
        #expect(config.listeners.map(\.address.port) == [8080])
        #expect(config.clusters.keys.sorted() == ["free_tier", "premium_tier"])
        let routes = try #require(config.listeners.first?.routeConfiguration.virtualHosts.first?.routes)
        #expect(routes.map(\.match.kind).contains(.pathSeparatedPrefix("/free")))
        #expect(
            config.clusters["free_tier"]?.endpoints == [
                SocketAddress(address: "free-tier-service.free-service.svc.cluster.local", port: 5000)
            ])
    }

    @Test(
        "settings the gateway does not implement are refused at start, naming the field",
        arguments: [
            (
                "            - match: { safe_regex: { regex: \"/f.*\" } }\n              route: { cluster: upstream }",
                "routes[0].match.safe_regex: not implemented by the gateway"
            ),
            (
                "            - match: { prefix: /x }\n              route: { cluster: upstream, retry_policy: { num_retries: 2 } }",
                "routes[0].route.retry_policy: not implemented by the gateway"
            ),
            (
                "            - match: { prefix: /x }\n              redirect: { path_redirect: /y }",
                "routes[0].redirect: not implemented by the gateway"
            ),
        ])
    func refusesUnsupported(routes: String, expected: String) {
        let error = #expect(throws: EnvoyConfigError.self) { try EnvoyConfig(yaml: envoyYAML(routes: routes)) }
        #expect(error?.kind == .unsupported)
        #expect(error?.description.contains(expected) == true, "\(error?.description ?? "")")
    }

    @Test("a route to an undefined cluster, a cluster with an unknown lb_policy, and bad YAML are refused")
    func refusesInvalid() {
        let undefined = #expect(throws: EnvoyConfigError.self) {
            try EnvoyConfig(
                yaml: envoyYAML(routes: "            - match: { prefix: / }\n              route: { cluster: nowhere }")
            )
        }
        #expect(undefined?.description.contains("names cluster \"nowhere\", which is not defined") == true)

        let policy = #expect(throws: EnvoyConfigError.self) {
            try EnvoyConfig(
                yaml: envoyYAML(
                    routes: "            - match: { prefix: / }\n              route: { cluster: c }",
                    clusters: """
                            - name: c
                              lb_policy: MAGLEV
                              load_assignment: { cluster_name: c, endpoints: [] }
                        """))
        }
        #expect(policy?.field == "static_resources.clusters[0].lb_policy")

        #expect(throws: EnvoyConfigError.self) { try EnvoyConfig(yaml: "static_resources: [unclosed") }
    }

    @Test("an http filter other than the router is refused")
    func otherFilters() {
        let extra = """
                            http_filters:
                              - name: envoy.filters.http.cors
                                typed_config:
                                  "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors
            """
        let error = #expect(throws: EnvoyConfigError.self) {
            try EnvoyConfig(
                yaml: envoyYAML(
                    routes: "            - match: { prefix: / }\n              route: { cluster: upstream }",
                    managerExtra: extra))
        }
        #expect(error?.description.contains("only the router filter") == true, "\(error?.description ?? "")")
    }
}

/// Path matching as Envoy's route documentation defines each kind.
@Suite struct RouteMatchTests {
    static func match(_ yaml: String) throws -> RouteMatch {
        let config = try EnvoyConfig(
            yaml: envoyYAML(routes: "            - match: \(yaml)\n              route: { cluster: upstream }"))
        return try #require(config.listeners.first?.routeConfiguration.virtualHosts.first?.routes.first?.match)
    }

    @Test(
        "path_separated_prefix matches the prefix or the prefix followed by /, ignoring the query",
        arguments: [
            ("/free", true), ("/free/", true), ("/free/predict", true), ("/free?x=1", true), ("/freebie", false),
            ("/fre", false), ("/Free", false), ("/premium/free", false),
        ])
    func pathSeparatedPrefix(target: String, matches: Bool) throws {
        #expect(try Self.match("{ path_separated_prefix: /free }").matches(target) == matches)
    }

    @Test(
        "prefix matches the beginning of :path, so /free also matches /freebie",
        arguments: [("/free", true), ("/freebie", true), ("/free/x", true), ("/fre", false), ("/x/free", false)])
    func prefix(target: String, matches: Bool) throws {
        #expect(try Self.match("{ prefix: /free }").matches(target) == matches)
    }

    @Test(
        "path matches exactly once the query string is removed",
        arguments: [("/healthz", true), ("/healthz?probe=1", true), ("/healthz/", false), ("/healthzz", false)])
    func exactPath(target: String, matches: Bool) throws {
        #expect(try Self.match("{ path: /healthz }").matches(target) == matches)
    }

    @Test("case_sensitive: false matches letters in any case")
    func caseInsensitive() throws {
        let match = try Self.match("{ path_separated_prefix: /free, case_sensitive: false }")
        #expect(match.matches("/FREE/x"))
        #expect(!match.matches("/FREEBIE"))
        #expect(try !Self.match("{ path_separated_prefix: /free }").matches("/FREE"))
    }

    @Test("a path_separated_prefix that ends in / is refused, as Envoy refuses it")
    func trailingSlash() {
        #expect(throws: EnvoyConfigError.self) { try Self.match("{ path_separated_prefix: /free/ }") }
    }
}
