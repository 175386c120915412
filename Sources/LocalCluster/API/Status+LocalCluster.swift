import Kubernetes

extension Status {
    /// 400 BadRequest with `message`.
    static func badRequest(_ message: String) -> Status {
        Status(code: 400, reason: "BadRequest", message: message)
    }

    /// 500 InternalError: a fault of the local cluster, never of the client.
    static func internalError(_ message: String) -> Status {
        Status(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    /// 405 MethodNotAllowed for a verb a resource does not serve.
    static func methodNotAllowed(_ message: String) -> Status {
        Status(code: 405, reason: "MethodNotAllowed", message: message)
    }

    /// 409 Conflict for a write against a stale resource version.
    static func conflict(type: ResourceType, name: String) -> Status {
        Status(
            code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(type.qualifiedName) \"\(name)\": the object has been "
                + "modified; please apply your changes to the latest version and try again",
            details: Details(name: name, group: type.group.isEmpty ? nil : type.group, kind: type.resource))
    }

    /// 410 Expired, as a watch's ERROR event carries it.
    static func expired(requested: Int64, oldest: Int64) -> Status {
        Status(code: 410, reason: "Expired", message: "too old resource version: \(requested) (\(oldest - 1))")
    }

    /// 404 for a path that names no emulated resource.
    static func pathNotFound(_ path: String) -> Status {
        Status(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
    }

    /// Any error as a Status: itself when it is one, 500 otherwise.
    static func from(_ error: any Error) -> Status {
        if let status = error as? Status { return status }
        return .internalError("\(error)")
    }
}
