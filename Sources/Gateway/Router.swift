import EnvoyConfig

/// Picks the virtual host and route for a request the way Envoy does.
///
/// Virtual hosts are chosen by the Host header, without its port, in Envoy's order: an exact domain,
/// then the longest `*.suffix` wildcard, then the longest `prefix.*` wildcard, then `*`. Within the host,
/// routes are tried in order and the first match wins.
struct Router: Sendable {
    let configuration: RouteConfiguration
    /// Each virtual host's domains, lower-cased once here rather than on every request.
    private let domains: [[String]]
    /// The host with `*` among its domains, the last resort.
    private let catchAll: Int?

    init(configuration: RouteConfiguration) {
        self.configuration = configuration
        self.domains = configuration.virtualHosts.map { $0.domains.map { $0.lowercased() } }
        self.catchAll = domains.firstIndex { $0.contains("*") }
    }

    func route(host: String?, target: String) -> (host: VirtualHost, route: Route)? {
        guard let virtualHost = virtualHost(for: host ?? "") else { return nil }
        guard let route = virtualHost.routes.first(where: { $0.match.matches(target) }) else { return nil }
        return (virtualHost, route)
    }

    func virtualHost(for hostHeader: String) -> VirtualHost? {
        let hosts = configuration.virtualHosts
        // The common shape, one host serving every domain, needs no look at the Host header.
        if hosts.count == 1, let catchAll { return hosts[catchAll] }
        let host = Self.strippingPort(hostHeader).lowercased()
        if let exact = domains.firstIndex(where: { $0.contains(host) }) {
            return hosts[exact]
        }
        var best: (index: Int, length: Int)?
        for (index, candidates) in domains.enumerated() {
            for domain in candidates where domain.count > 1 && domain.hasPrefix("*") {
                let suffix = domain.dropFirst()
                if host.hasSuffix(suffix), host.count > suffix.count, suffix.count > (best?.length ?? -1) {
                    best = (index, suffix.count)
                }
            }
        }
        if let best { return hosts[best.index] }
        for (index, candidates) in domains.enumerated() {
            for domain in candidates where domain.count > 1 && domain.hasSuffix("*") {
                let prefix = domain.dropLast()
                if host.hasPrefix(prefix), host.count > prefix.count, prefix.count > (best?.length ?? -1) {
                    best = (index, prefix.count)
                }
            }
        }
        if let best { return hosts[best.index] }
        return catchAll.map { hosts[$0] }
    }

    private static func strippingPort(_ host: String) -> String {
        // IPv6 literals keep their colons inside brackets.
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") { return String(host[...close]) }
        guard let colon = host.lastIndex(of: ":"), host[host.index(after: colon)...].allSatisfy(\.isNumber) else {
            return host
        }
        return String(host[..<colon])
    }
}
