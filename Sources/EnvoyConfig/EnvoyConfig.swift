import YAML

/// The subset of Envoy's v3 bootstrap configuration that the gateway implements: static listeners with
/// the HTTP connection manager's inline route configuration, and static clusters of socket addresses.
///
/// Parsing is strict: a field the gateway does not implement is refused by name rather than ignored, so
/// the gateway never routes differently from what the same file makes Envoy do.
public struct EnvoyConfig: Sendable, Equatable {
    /// The listeners, in file order.
    public var listeners: [Listener]
    /// The clusters, by name.
    public var clusters: [String: Cluster]

    /// Parses the YAML (or JSON) text of an Envoy bootstrap file.
    ///
    /// - Throws: `EnvoyConfigError` naming the first field that is invalid or not implemented.
    public init(yaml text: String) throws(EnvoyConfigError) {
        let document: YAMLValue
        do {
            document = try YAMLParser.parseDocument(text)
        } catch {
            throw EnvoyConfigError(.invalid, field: "(file)", "not YAML: \(error)")
        }
        let root = try ConfigNode(value: document, path: "").fields(known: ["static_resources", "admin", "node"])
        guard root["admin"] == nil else {
            throw EnvoyConfigError(.unsupported, field: "admin", "the gateway has no admin interface")
        }
        let resources = try root["static_resources"].required(
            "static_resources", in: ConfigNode(value: .null, path: ""))
        let fields = try resources.fields(known: ["listeners", "clusters"])

        var clusters: [String: Cluster] = [:]
        for node in try fields["clusters"]?.items() ?? [] {
            let cluster = try Cluster(node)
            guard clusters[cluster.name] == nil else {
                throw EnvoyConfigError(.invalid, field: node.path, "a second cluster named \"\(cluster.name)\"")
            }
            clusters[cluster.name] = cluster
        }
        listeners = try (fields["listeners"]?.items() ?? []).map { node throws(EnvoyConfigError) in try Listener(node) }
        guard !listeners.isEmpty else {
            throw EnvoyConfigError(.invalid, field: "static_resources.listeners", "at least one listener is needed")
        }
        self.clusters = clusters

        // Every route must name a cluster that exists, as Envoy checks at load time.
        for (listenerIndex, listener) in listeners.enumerated() {
            for (hostIndex, host) in listener.routeConfiguration.virtualHosts.enumerated() {
                for (routeIndex, route) in host.routes.enumerated() {
                    if case .forward(let forward) = route.action, clusters[forward.cluster] == nil {
                        throw EnvoyConfigError(
                            .invalid,
                            field:
                                "static_resources.listeners[\(listenerIndex)]...virtual_hosts[\(hostIndex)].routes[\(routeIndex)].route.cluster",
                            "names cluster \"\(forward.cluster)\", which is not defined")
                    }
                }
            }
        }
    }
}

/// An address and port, as Envoy's `socket_address`.
public struct SocketAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// A host name or IP address.
    public var address: String
    /// The TCP port.
    public var port: Int

    /// Creates an address.
    public init(address: String, port: Int) {
        self.address = address
        self.port = port
    }

    init(_ node: ConfigNode) throws(EnvoyConfigError) {
        let outer = try node.fields(known: ["socket_address"])
        let fields = try outer["socket_address"].required("socket_address", in: node)
            .fields(known: ["address", "port_value", "protocol"])
        if let protocolNode = fields["protocol"] { _ = try protocolNode.choice(["TCP"]) }
        address = try fields["address"].required("address", in: node).string()
        port = try fields["port_value"].required("port_value", in: node).integer(in: 0...65535)
    }

    /// `address:port`.
    public var description: String { "\(address):\(port)" }
}

/// A listener: an address and the HTTP connection manager's routes.
public struct Listener: Sendable, Equatable {
    /// The listener's name.
    public var name: String
    /// Where Envoy listens.
    public var address: SocketAddress
    /// The routes.
    public var routeConfiguration: RouteConfiguration

    init(_ node: ConfigNode) throws(EnvoyConfigError) {
        let fields = try node.fields(known: ["name", "address", "filter_chains"])
        name = try fields["name"]?.string() ?? ""
        address = try SocketAddress(try fields["address"].required("address", in: node))
        let chains = try fields["filter_chains"].required("filter_chains", in: node).items()
        guard chains.count == 1 else {
            throw EnvoyConfigError(
                .unsupported, field: node.path + ".filter_chains", "exactly one filter chain is handled")
        }
        let filters = try (try chains[0].fields(known: ["filters"]))["filters"].required("filters", in: chains[0])
            .items()
        guard filters.count == 1 else {
            throw EnvoyConfigError(
                .unsupported, field: chains[0].path + ".filters",
                "exactly one filter, the HTTP connection manager, is handled")
        }
        let filter = try filters[0].fields(known: ["name", "typed_config"])
        let managerType =
            "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
        let manager = try filter["typed_config"].required("typed_config", in: filters[0])
        let managerFields = try manager.fields(
            known: ["@type", "stat_prefix", "codec_type", "route_config", "http_filters"])
        guard try managerFields["@type"].required("@type", in: manager).string() == managerType else {
            throw EnvoyConfigError(.unsupported, field: manager.path + ".@type", "only \(managerType) is handled")
        }
        if let codec = managerFields["codec_type"] { _ = try codec.choice(["AUTO", "HTTP1"]) }
        for httpFilter in try managerFields["http_filters"]?.items() ?? [] {
            let fields = try httpFilter.fields(known: ["name", "typed_config"])
            let routerType = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
            let type = try (try fields["typed_config"]?.fields(known: ["@type"]))?["@type"]?.string()
            guard type == routerType else {
                throw EnvoyConfigError(
                    .unsupported, field: httpFilter.path, "only the router filter (\(routerType)) is handled")
            }
        }
        routeConfiguration = try RouteConfiguration(
            try managerFields["route_config"].required("route_config", in: manager))
    }
}

/// A named set of virtual hosts.
public struct RouteConfiguration: Sendable, Equatable {
    /// The configuration's name.
    public var name: String
    /// The virtual hosts, in file order.
    public var virtualHosts: [VirtualHost]

    init(_ node: ConfigNode) throws(EnvoyConfigError) {
        let fields = try node.fields(known: ["name", "virtual_hosts"])
        name = try fields["name"]?.string() ?? ""
        virtualHosts = try (try fields["virtual_hosts"].required("virtual_hosts", in: node).items()).map {
            node throws(EnvoyConfigError) in try VirtualHost(node)
        }
    }
}

/// Routes for requests whose Host matches one of `domains`.
public struct VirtualHost: Sendable, Equatable {
    /// The host's name.
    public var name: String
    /// Exact names, `*`, `*.suffix` or `prefix.*`.
    public var domains: [String]
    /// The routes, tried in order; the first that matches wins.
    public var routes: [Route]

    init(_ node: ConfigNode) throws(EnvoyConfigError) {
        let fields = try node.fields(known: ["name", "domains", "routes"])
        name = try fields["name"]?.string() ?? ""
        domains = try (try fields["domains"].required("domains", in: node).items()).map {
            node throws(EnvoyConfigError) in try node.string()
        }
        routes = try (try fields["routes"].required("routes", in: node).items()).map {
            node throws(EnvoyConfigError) in try Route(node)
        }
    }
}

/// A match and what to do with the requests it matches.
public struct Route: Sendable, Equatable {
    /// What the route matches.
    public var match: RouteMatch
    /// What it does.
    public var action: RouteAction

    init(_ node: ConfigNode) throws(EnvoyConfigError) {
        let fields = try node.fields(known: ["name", "match", "route", "direct_response"])
        match = try RouteMatch(try fields["match"].required("match", in: node))
        switch (fields["route"], fields["direct_response"]) {
        case (let route?, nil):
            action = .forward(try RouteAction.Forward(route))
        case (nil, let direct?):
            let directFields = try direct.fields(known: ["status", "body"])
            let status = try directFields["status"].required("status", in: direct).integer(in: 200...599)
            let body = try (try directFields["body"]?.fields(known: ["inline_string"]))?["inline_string"]?.string()
            action = .directResponse(status: status, body: body ?? "")
        default:
            throw EnvoyConfigError(.invalid, field: node.path, "a route needs exactly one of route or direct_response")
        }
    }
}

/// How a route matches the request path. Envoy compares the path without its query string for `path`
/// and `path_separated_prefix`, and the whole `:path` for `prefix`.
public struct RouteMatch: Sendable, Equatable {
    /// The kinds of path match the gateway implements.
    public enum Kind: Sendable, Equatable {
        /// The `:path` starts with the value. `/free` matches `/freebie` too.
        case prefix(String)
        /// The path equals the value.
        case path(String)
        /// The path equals the value or continues it with `/`: `/free` matches `/free` and `/free/x`, never
        /// `/freebie`.
        case pathSeparatedPrefix(String)
    }

    /// The kind of match and its value.
    public var kind: Kind
    /// Whether letters must match in case; Envoy's default is true.
    public var caseSensitive: Bool

    init(_ node: ConfigNode) throws(EnvoyConfigError) {
        let fields = try node.fields(known: ["prefix", "path", "path_separated_prefix", "case_sensitive"])
        caseSensitive = try fields["case_sensitive"]?.bool() ?? true
        switch (fields["prefix"], fields["path"], fields["path_separated_prefix"]) {
        case (let prefix?, nil, nil):
            kind = .prefix(try prefix.string())
        case (nil, let path?, nil):
            kind = .path(try path.string())
        case (nil, nil, let separated?):
            let value = try separated.string()
            guard value.hasPrefix("/"), !value.hasSuffix("/") else {
                throw EnvoyConfigError(.invalid, field: separated.path, "must start with / and must not end with /")
            }
            kind = .pathSeparatedPrefix(value)
        default:
            throw EnvoyConfigError(
                .invalid, field: node.path, "needs exactly one of prefix, path, path_separated_prefix")
        }
    }

    /// Whether the match accepts a request for `target`, the path with its query string if any.
    public func matches(_ target: String) -> Bool {
        let path =
            target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        switch kind {
        case .prefix(let prefix):
            return Self.hasPrefix(target, prefix, caseSensitive: caseSensitive)
        case .path(let exact):
            return caseSensitive ? path == exact : path.lowercased() == exact.lowercased()
        case .pathSeparatedPrefix(let prefix):
            guard Self.hasPrefix(path, prefix, caseSensitive: caseSensitive) else { return false }
            let rest = path.utf8.dropFirst(prefix.utf8.count)
            return rest.isEmpty || rest.first == UInt8(ascii: "/")
        }
    }

    /// The part of the path this match consumed, for `prefix_rewrite`.
    public var matchedPrefix: String {
        switch kind {
        case .prefix(let value), .path(let value), .pathSeparatedPrefix(let value): value
        }
    }

    private static func hasPrefix(_ text: String, _ prefix: String, caseSensitive: Bool) -> Bool {
        caseSensitive ? text.hasPrefix(prefix) : text.lowercased().hasPrefix(prefix.lowercased())
    }
}

/// What a matched route does.
public enum RouteAction: Sendable, Equatable {
    /// Proxies the request to a cluster.
    case forward(Forward)
    /// Answers directly with a status and body.
    case directResponse(status: Int, body: String)

    /// Where and how a request is proxied.
    public struct Forward: Sendable, Equatable {
        /// The cluster's name.
        public var cluster: String
        /// How long the whole upstream exchange may take; nil when the config disables it with `0s`.
        public var timeout: Duration?
        /// Replaces the matched prefix of the path when set.
        public var prefixRewrite: String?

        init(_ node: ConfigNode) throws(EnvoyConfigError) {
            let fields = try node.fields(known: ["cluster", "timeout", "prefix_rewrite"])
            cluster = try fields["cluster"].required("cluster", in: node).string()
            // Envoy's default route timeout is 15 seconds; 0s disables it.
            let timeout = try fields["timeout"]?.duration() ?? .seconds(15)
            self.timeout = timeout == .zero ? nil : timeout
            prefixRewrite = try fields["prefix_rewrite"]?.string()
        }
    }
}

/// A set of upstream endpoints.
public struct Cluster: Sendable, Equatable {
    /// The cluster's name.
    public var name: String
    /// How long connecting to an endpoint may take.
    public var connectTimeout: Duration
    /// The endpoints, used in turn (round robin).
    public var endpoints: [SocketAddress]

    init(_ node: ConfigNode) throws(EnvoyConfigError) {
        let fields = try node.fields(known: ["name", "type", "connect_timeout", "lb_policy", "load_assignment"])
        name = try fields["name"].required("name", in: node).string()
        if let type = fields["type"] { _ = try type.choice(["STATIC", "STRICT_DNS", "LOGICAL_DNS"]) }
        if let policy = fields["lb_policy"] { _ = try policy.choice(["ROUND_ROBIN"]) }
        // Envoy's default connect timeout is 5 seconds.
        connectTimeout = try fields["connect_timeout"]?.duration() ?? .seconds(5)

        let assignment = try fields["load_assignment"].required("load_assignment", in: node)
        let assignmentFields = try assignment.fields(known: ["cluster_name", "endpoints"])
        var endpoints: [SocketAddress] = []
        for locality in try assignmentFields["endpoints"].required("endpoints", in: assignment).items() {
            let lbEndpoints = try (try locality.fields(known: ["lb_endpoints"]))["lb_endpoints"]
                .required("lb_endpoints", in: locality).items()
            for lbEndpoint in lbEndpoints {
                let endpoint = try (try lbEndpoint.fields(known: ["endpoint"]))["endpoint"]
                    .required("endpoint", in: lbEndpoint)
                let address = try (try endpoint.fields(known: ["address"]))["address"].required("address", in: endpoint)
                endpoints.append(try SocketAddress(address))
            }
        }
        guard !endpoints.isEmpty else {
            throw EnvoyConfigError(.invalid, field: assignment.path, "the cluster has no endpoints")
        }
        self.endpoints = endpoints
    }
}
