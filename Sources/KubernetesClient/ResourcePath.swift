/// Names a resource collection or object on the API server, and builds its URL path.
///
/// ```swift
/// ResourcePath(group: "batch", version: "v1", resource: "jobs", namespace: "free", name: "job-x7k2").path
/// // "/apis/batch/v1/namespaces/free/jobs/job-x7k2"
/// ```
public struct ResourcePath: Sendable, Hashable, CustomStringConvertible {
    /// The API group; empty for the core group (`/api/v1`).
    public var group: String
    /// The group's version, such as `v1`.
    public var version: String
    /// The plural resource, such as `jobs`.
    public var resource: String
    /// The namespace, or nil for a cluster-scoped resource or a list across all namespaces.
    public var namespace: String?
    /// The object's name, or nil for the collection.
    public var name: String?
    /// A subresource of the object, such as `log` or `status`.
    public var subresource: String?

    /// A path from its parts.
    public init(
        group: String = "", version: String = "v1", resource: String, namespace: String? = nil, name: String? = nil,
        subresource: String? = nil
    ) {
        self.group = group
        self.version = version
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.subresource = subresource
    }

    /// The URL path, each segment percent-encoded.
    public var path: String {
        var segments = group.isEmpty ? ["api", version] : ["apis", group, version]
        if let namespace { segments += ["namespaces", namespace] }
        segments.append(resource)
        if let name { segments.append(name) }
        if let subresource { segments.append(subresource) }
        return "/" + segments.map(QueryString.percentEncoded).joined(separator: "/")
    }

    /// `resource.group`, or `resource` for the core group, as the server's messages write it.
    public var qualifiedResource: String { group.isEmpty ? resource : "\(resource).\(group)" }

    /// The path.
    public var description: String { path }

    /// The same path naming the object `name`.
    public func named(_ name: String) -> ResourcePath {
        var copy = self
        copy.name = name
        return copy
    }

    /// `batch/v1` Jobs in `namespace`.
    public static func jobs(in namespace: String?, named name: String? = nil) -> ResourcePath {
        ResourcePath(group: "batch", version: "v1", resource: "jobs", namespace: namespace, name: name)
    }

    /// `v1` Pods in `namespace`.
    public static func pods(in namespace: String?, named name: String? = nil) -> ResourcePath {
        ResourcePath(resource: "pods", namespace: namespace, name: name)
    }

    /// `v1` ResourceQuotas in `namespace`.
    public static func resourceQuotas(in namespace: String?, named name: String? = nil) -> ResourcePath {
        ResourcePath(resource: "resourcequotas", namespace: namespace, name: name)
    }

    /// `v1` Events in `namespace`.
    public static func events(in namespace: String?) -> ResourcePath {
        ResourcePath(resource: "events", namespace: namespace)
    }

    /// `authorization.k8s.io/v1` SelfSubjectAccessReviews (cluster-scoped, create-only).
    public static let selfSubjectAccessReviews = ResourcePath(
        group: "authorization.k8s.io", version: "v1", resource: "selfsubjectaccessreviews")
}
