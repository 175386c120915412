/// One kind of object the local cluster serves: where it lives in the API and how discovery describes it.
///
/// The table of these (`ResourceType.all`) is the single list of what is emulated; routing, discovery, RBAC
/// attributes and storage keys all read from it, so adding a resource is one entry here plus its strategy.
struct ResourceType: Sendable, Hashable {
    /// The API group; empty for the core group.
    let group: String
    /// The version, `v1` for every resource here.
    let version: String
    /// The plural resource name used in paths and RBAC rules, such as `jobs`.
    let resource: String
    /// The singular name kubectl resolves (`job`).
    let singular: String
    /// The kind, such as `Job`.
    let kind: String
    /// True for resources that live in a namespace.
    let namespaced: Bool
    /// Abbreviations kubectl accepts, such as `po`.
    let shortNames: [String]
    /// The verbs discovery advertises.
    let verbs: [String]
    /// Subresources served under the resource, such as `log` and `status` for pods.
    let subresources: [String]
    /// Categories such as `all`.
    let categories: [String]

    /// `batch/v1`, or `v1` for the core group.
    var groupVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// `jobs.batch`, or `pods` for the core group: the storage key and the name in Status messages.
    var qualifiedName: String { group.isEmpty ? resource : "\(resource).\(group)" }
    /// The kind of a list of these, such as `JobList`.
    var listKind: String { kind + "List" }
    /// The kind with its group, as `Job.batch`, for Invalid messages.
    var qualifiedKind: String { group.isEmpty ? kind : "\(kind).\(group)" }

    private static let readWrite = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    static let namespaces = ResourceType(
        group: "", version: "v1", resource: "namespaces", singular: "namespace", kind: "Namespace", namespaced: false,
        shortNames: ["ns"], verbs: ["create", "delete", "get", "list", "patch", "update", "watch"], subresources: [],
        categories: [])
    static let pods = ResourceType(
        group: "", version: "v1", resource: "pods", singular: "pod", kind: "Pod", namespaced: true,
        shortNames: ["po"], verbs: readWrite, subresources: ["log", "status"], categories: ["all"])
    static let events = ResourceType(
        group: "", version: "v1", resource: "events", singular: "event", kind: "Event", namespaced: true,
        shortNames: ["ev"], verbs: readWrite, subresources: [], categories: [])
    static let resourceQuotas = ResourceType(
        group: "", version: "v1", resource: "resourcequotas", singular: "resourcequota", kind: "ResourceQuota",
        namespaced: true, shortNames: ["quota"], verbs: readWrite, subresources: ["status"], categories: [])
    static let limitRanges = ResourceType(
        group: "", version: "v1", resource: "limitranges", singular: "limitrange", kind: "LimitRange",
        namespaced: true, shortNames: ["limits"], verbs: readWrite, subresources: [], categories: [])
    static let serviceAccounts = ResourceType(
        group: "", version: "v1", resource: "serviceaccounts", singular: "serviceaccount", kind: "ServiceAccount",
        namespaced: true, shortNames: ["sa"], verbs: readWrite, subresources: [], categories: [])
    static let jobs = ResourceType(
        group: "batch", version: "v1", resource: "jobs", singular: "job", kind: "Job", namespaced: true,
        shortNames: [], verbs: readWrite, subresources: ["status"], categories: ["all"])
    static let roles = ResourceType(
        group: "rbac.authorization.k8s.io", version: "v1", resource: "roles", singular: "role", kind: "Role",
        namespaced: true, shortNames: [], verbs: readWrite, subresources: [], categories: [])
    static let roleBindings = ResourceType(
        group: "rbac.authorization.k8s.io", version: "v1", resource: "rolebindings", singular: "rolebinding",
        kind: "RoleBinding", namespaced: true, shortNames: [], verbs: readWrite, subresources: [], categories: [])
    static let selfSubjectAccessReviews = ResourceType(
        group: "authorization.k8s.io", version: "v1", resource: "selfsubjectaccessreviews",
        singular: "selfsubjectaccessreview", kind: "SelfSubjectAccessReview", namespaced: false, shortNames: [],
        verbs: ["create"], subresources: [], categories: [])

    /// Every emulated resource, in discovery order.
    static let all: [ResourceType] = [
        namespaces, pods, events, resourceQuotas, limitRanges, serviceAccounts, jobs, roles, roleBindings,
        selfSubjectAccessReviews,
    ]

    /// The resource called `resource` in `group`, if emulated.
    static func find(group: String, resource: String) -> ResourceType? {
        all.first { $0.group == group && $0.resource == resource }
    }

    /// The resource whose objects have `kind` in `apiVersion`, if emulated.
    static func find(apiVersion: String, kind: String) -> ResourceType? {
        all.first { $0.groupVersion == apiVersion && $0.kind == kind }
    }
}
