import EnvoyConfig

/// Picks the virtual host and route for a request the way Envoy does.
///
/// Virtual hosts are chosen by the Host header, without its port, in Envoy's order: an exact domain,
/// then the longest `*.suffix` wildcard, then the longest `prefix.*` wildcard, then `*`. Within the host,
/// routes are tried in order and the first match wins.
struct Router: Sendable {
    let configuration: RouteConfiguration

    func route(host: String?, target: String) -> (host: VirtualHost, route: Route)? {
        guard let virtualHost = virtualHost(for: host ?? "") else { return nil }
        guard let route = virtualHost.routes.first(where: { $0.match.matches(target) }) else { return nil }
        return (virtualHost, route)
    }

    func virtualHost(for hostHeader: String) -> VirtualHost? {
        let host = Self.strippingPort(hostHeader).lowercased()
        let hosts = configuration.virtualHosts
        if let exact = hosts.first(where: { $0.domains.contains { $0.lowercased() == host } }) {
            return exact
        }
        var best: (host: VirtualHost, length: Int)?
        for candidate in hosts {
            for domain in candidate.domains where domain.count > 1 && domain.hasPrefix("*") {
                let suffix = domain.dropFirst().lowercased()
                if host.hasSuffix(suffix), host.count > suffix.count, suffix.count > (best?.length ?? -1) {
                    best = (candidate, suffix.count)
                }
            }
        }
        if let best { return best.host }
        for candidate in hosts {
            for domain in candidate.domains where domain.count > 1 && domain.hasSuffix("*") {
                let prefix = domain.dropLast().lowercased()
                if host.hasPrefix(prefix), host.count > prefix.count, prefix.count > (best?.length ?? -1) {
                    best = (candidate, prefix.count)
                }
            }
        }
        if let best { return best.host }
        return hosts.first { $0.domains.contains("*") }
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
