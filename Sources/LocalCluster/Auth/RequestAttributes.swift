import Kubernetes

/// What a request asks to do, in RBAC's terms.
struct RequestAttributes: Sendable, Hashable {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`.
    var verb: String
    /// The API group; empty for core.
    var group: String
    /// The resource, such as `jobs`.
    var resource: String
    /// The subresource, such as `log`, or empty.
    var subresource: String
    /// The namespace, or empty for cluster scope.
    var namespace: String
    /// The object's name, or empty for collections and creates.
    var name: String

    init(
        verb: String, group: String, resource: String, subresource: String = "", namespace: String = "",
        name: String = ""
    ) {
        self.verb = verb
        self.group = group
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
    }

    /// The 403 Status the API server answers when RBAC denies these attributes to `user`.
    func forbidden(user: String) -> Status {
        let groupResource = group.isEmpty ? resource : "\(resource).\(group)"
        let subject = name.isEmpty ? groupResource : "\(groupResource) \"\(name)\""
        let shown = subresource.isEmpty ? resource : "\(resource)/\(subresource)"
        let scope = namespace.isEmpty ? " at the cluster scope" : " in the namespace \"\(namespace)\""
        return Status(
            code: 403, reason: "Forbidden",
            message: "\(subject) is forbidden: User \"\(user)\" cannot \(verb) resource \"\(shown)\" in API group "
                + "\"\(group)\"\(scope)",
            details: Status.Details(name: name.isEmpty ? nil : name, group: group.isEmpty ? nil : group, kind: resource)
        )
    }
}
