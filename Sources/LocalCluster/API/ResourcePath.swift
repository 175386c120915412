/// A request path, resolved against the table of emulated resources.
enum ResourcePath: Sendable, Equatable {
    /// `/version`.
    case version
    /// `/api`.
    case coreVersions
    /// `/apis`.
    case groupList
    /// `/apis/GROUP`.
    case group(String)
    /// `/api/v1` or `/apis/GROUP/VERSION`.
    case resourceList(group: String, version: String)
    /// `/healthz`, `/livez`, `/readyz`.
    case health
    /// `/openapi/v3` and the documents it lists.
    case openAPI
    /// A collection, an object or an object's subresource.
    case resource(type: ResourceType, namespace: String, name: String, subresource: String)
    /// Anything else.
    case unknown

    /// Resolves `path`.
    init(_ path: String) {
        let segments = path.split(separator: "/").map(String.init)
        switch segments.first {
        case "version" where segments.count == 1:
            self = .version
        case "healthz", "livez", "readyz":
            self = .health
        case "openapi" where segments.count > 1 && segments[1] == "v3":
            self = .openAPI
        case "api":
            if segments.count == 1 {
                self = .coreVersions
            } else if segments[1] == "v1" {
                self =
                    segments.count == 2
                    ? .resourceList(group: "", version: "v1") : Self.resolve("", Array(segments[2...]))
            } else {
                self = .unknown
            }
        case "apis":
            switch segments.count {
            case 1: self = .groupList
            case 2: self = .group(segments[1])
            case 3: self = .resourceList(group: segments[1], version: segments[2])
            default:
                let served = ResourceType.all.contains { $0.group == segments[1] && $0.version == segments[2] }
                self = served ? Self.resolve(segments[1], Array(segments[3...])) : .unknown
            }
        default:
            self = .unknown
        }
    }

    /// Resolves the part after the group version: `[namespaces/NS/]RESOURCE[/NAME[/SUBRESOURCE]]`.
    private static func resolve(_ group: String, _ rest: [String]) -> ResourcePath {
        if rest.count >= 3, rest[0] == "namespaces", let type = ResourceType.find(group: group, resource: rest[2]),
            type.namespaced, rest.count <= 5
        {
            return .resource(
                type: type, namespace: rest[1], name: rest.count > 3 ? rest[3] : "",
                subresource: rest.count > 4 ? rest[4] : "")
        }
        guard let first = rest.first, let type = ResourceType.find(group: group, resource: first), rest.count <= 3,
            type.namespaced || rest.count <= 3
        else { return .unknown }
        if type.namespaced && rest.count > 1 { return .unknown }
        return .resource(
            type: type, namespace: "", name: rest.count > 1 ? rest[1] : "", subresource: rest.count > 2 ? rest[2] : "")
    }
}
