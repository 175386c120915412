import Kubernetes

/// The discovery documents kubectl reads to learn what the server serves: `/version`, `/api`, `/apis` and one
/// APIResourceList per group version, all derived from `ResourceType.all`.
enum Discovery {
    /// The Kubernetes version the emulation follows.
    static let version = JSONValue.object(
        [
            "major": "1", "minor": "32", "gitVersion": "v1.32.0-tierserve-local", "gitCommit": "local",
            "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "swift6",
            "compiler": "swiftc", "platform": "linux/amd64",
        ].mapValues { JSONValue.string($0) })

    /// The group versions served, core first.
    static var groupVersions: [(group: String, version: String)] {
        var seen: [(String, String)] = []
        for type in ResourceType.all where !seen.contains(where: { $0 == (type.group, type.version) }) {
            seen.append((type.group, type.version))
        }
        return seen
    }

    /// `/api`: APIVersions.
    static func coreVersions(serverAddress: String) -> JSONValue {
        .object([
            "kind": "APIVersions", "versions": .array(["v1"]),
            "serverAddressByClientCIDRs": .array([
                .object(["clientCIDR": "0.0.0.0/0", "serverAddress": .string(serverAddress)])
            ]),
        ])
    }

    /// `/apis`: APIGroupList of the named groups.
    static var groupList: JSONValue {
        let groups = groupVersions.filter { !$0.group.isEmpty }.map { entry -> JSONValue in
            let version = JSONValue.object([
                "groupVersion": .string("\(entry.group)/\(entry.version)"), "version": .string(entry.version),
            ])
            return .object(["name": .string(entry.group), "versions": .array([version]), "preferredVersion": version])
        }
        return .object(["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups)])
    }

    /// `/apis/GROUP` : the APIGroup, or nil when not served.
    static func group(_ name: String) -> JSONValue? {
        guard let entry = groupVersions.first(where: { $0.group == name && !name.isEmpty }) else { return nil }
        let version = JSONValue.object([
            "groupVersion": .string("\(entry.group)/\(entry.version)"), "version": .string(entry.version),
        ])
        return .object([
            "kind": "APIGroup", "apiVersion": "v1", "name": .string(name), "versions": .array([version]),
            "preferredVersion": version,
        ])
    }

    /// `/api/v1` or `/apis/GROUP/VERSION`: the APIResourceList, or nil when not served.
    static func resourceList(group: String, version: String) -> JSONValue? {
        let types = ResourceType.all.filter { $0.group == group && $0.version == version }
        guard !types.isEmpty else { return nil }
        var resources: [JSONValue] = []
        for type in types {
            var entry: [String: JSONValue] = [
                "name": .string(type.resource), "singularName": .string(type.singular),
                "namespaced": .bool(type.namespaced), "kind": .string(type.kind),
                "verbs": .array(type.verbs.map { .string($0) }),
            ]
            if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map { .string($0) }) }
            if !type.categories.isEmpty { entry["categories"] = .array(type.categories.map { .string($0) }) }
            resources.append(.object(entry))
            for subresource in type.subresources {
                let verbs: [String] = subresource == "log" ? ["get"] : ["get", "patch", "update"]
                resources.append(
                    .object([
                        "name": .string("\(type.resource)/\(subresource)"), "singularName": "",
                        "namespaced": .bool(type.namespaced), "kind": .string(subresource == "log" ? "Pod" : type.kind),
                        "verbs": .array(verbs.map { .string($0) }),
                    ]))
            }
        }
        return .object([
            "kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"), "resources": .array(resources),
        ])
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// A string from a literal, for building discovery documents.
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}
