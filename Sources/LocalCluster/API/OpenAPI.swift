import Kubernetes

/// The least OpenAPI v3 kubectl needs: it reads `/openapi/v3` and then one document per group version to
/// learn whether the server validates fields itself (a `fieldValidation` parameter on each kind's PATCH
/// operation). Finding it, kubectl leaves validation to the server instead of validating against schemas,
/// which these documents do not carry.
enum OpenAPI {
    /// `/openapi/v3`: where each group version's document is.
    static var index: JSONValue {
        var paths: [String: JSONValue] = [:]
        for entry in Discovery.groupVersions {
            let path = entry.group.isEmpty ? "api/\(entry.version)" : "apis/\(entry.group)/\(entry.version)"
            paths[path] = .object(["serverRelativeURL": .string("/openapi/v3/\(path)?hash=local")])
        }
        return .object(["paths": .object(paths)])
    }

    /// `/openapi/v3/api/v1` or `/openapi/v3/apis/GROUP/VERSION`, or nil for a group version not served.
    static func document(path: String) -> JSONValue? {
        let parts = path.split(separator: "/").map(String.init)
        let group: String
        let version: String
        switch (parts.count, parts.first) {
        case (4, "openapi") where parts[2] == "api": (group, version) = ("", parts[3])
        case (5, "openapi") where parts[2] == "apis": (group, version) = (parts[3], parts[4])
        default: return nil
        }
        let types = ResourceType.all.filter { $0.group == group && $0.version == version }
        guard !types.isEmpty else { return nil }
        var paths: [String: JSONValue] = [:]
        let prefix = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        for type in types {
            let scope = type.namespaced ? "/namespaces/{namespace}" : ""
            let kind = JSONValue.object([
                "group": .string(group), "version": .string(version), "kind": .string(type.kind),
            ])
            let parameter = JSONValue.object([
                "name": "fieldValidation", "in": "query", "schema": .object(["type": "string"]),
                "description": "accepted and ignored: the local cluster keeps unknown fields",
            ])
            let operation = JSONValue.object([
                "x-kubernetes-group-version-kind": kind, "x-kubernetes-action": "patch",
                "parameters": .array([parameter]), "responses": .object(["200": .object(["description": "OK"])]),
            ])
            paths["\(prefix)\(scope)/\(type.resource)/{name}"] = .object(["patch": operation])
        }
        return .object([
            "openapi": "3.0.0",
            "info": .object(["title": "Kubernetes (tierserve local cluster)", "version": "v1.32.0"]),
            "paths": .object(paths), "components": .object(["schemas": .object([:])]),
        ])
    }
}
