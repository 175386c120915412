/// The `Status` object every non-2xx Kubernetes answer carries, with makers for the cases the stack emits.
///
/// The message shapes follow the API server's, because clients (and `kubectl`) show them to people.
public struct Status: Sendable, Hashable, Codable, Error {
    /// Which object and fields a failure concerns.
    public struct Details: Sendable, Hashable, Codable {
        /// One field-level problem.
        public struct Cause: Sendable, Hashable, Codable {
            /// Such as `FieldValueInvalid`.
            public var reason: String?
            /// What is wrong with the field.
            public var message: String?
            /// The field path, such as `metadata.name`.
            public var field: String?

            /// A cause from its parts.
            public init(reason: String? = nil, message: String? = nil, field: String? = nil) {
                self.reason = reason
                self.message = message
                self.field = field
            }
        }

        /// The object's name.
        public var name: String?
        /// The resource's API group.
        public var group: String?
        /// The resource, such as `jobs` (the server sends the plural resource here).
        public var kind: String?
        /// The field problems.
        public var causes: [Cause]?

        /// Details naming an object.
        public init(name: String? = nil, group: String? = nil, kind: String? = nil, causes: [Cause]? = nil) {
            self.name = name
            self.group = group
            self.kind = kind
            self.causes = causes
        }
    }

    /// `v1`.
    public var apiVersion: String? = "v1"
    /// `Status`.
    public var kind: String? = "Status"
    /// Always empty for errors.
    public var metadata = ListMeta()
    /// `Success` or `Failure`.
    public var status: String?
    /// A human-readable description.
    public var message: String?
    /// A machine-readable reason, such as `NotFound`, `AlreadyExists`, `Forbidden`, `Invalid`.
    public var reason: String?
    /// Which object and fields.
    public var details: Details?
    /// The HTTP status code.
    public var code: Int?

    /// A failure from its parts.
    public init(code: Int, reason: String, message: String, details: Details? = nil) {
        self.status = "Failure"
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    /// `resource.group`, or just `resource` for the core group: `jobs.batch`, `pods`.
    private static func qualified(_ resource: String, group: String) -> String {
        group.isEmpty ? resource : "\(resource).\(group)"
    }

    /// 404: `jobs.batch "NAME" not found`.
    public static func notFound(resource: String, group: String, name: String) -> Status {
        Status(
            code: 404, reason: "NotFound", message: "\(qualified(resource, group: group)) \"\(name)\" not found",
            details: Details(name: name, group: group.isEmpty ? nil : group, kind: resource))
    }

    /// 409: `jobs.batch "NAME" already exists`.
    public static func alreadyExists(resource: String, group: String, name: String) -> Status {
        Status(
            code: 409, reason: "AlreadyExists",
            message: "\(qualified(resource, group: group)) \"\(name)\" already exists",
            details: Details(name: name, group: group.isEmpty ? nil : group, kind: resource))
    }

    /// 403 for an RBAC denial: `jobs.batch is forbidden: User "U" cannot create resource "jobs" in API group
    /// "batch" in the namespace "NS"`.
    public static func forbidden(
        user: String, verb: String, resource: String, group: String, namespace: String?, name: String? = nil
    ) -> Status {
        let subject = name.map { "\(qualified(resource, group: group)) \"\($0)\"" } ?? qualified(resource, group: group)
        let scope = namespace.map { " in the namespace \"\($0)\"" } ?? " at the cluster scope"
        return Status(
            code: 403, reason: "Forbidden",
            message: "\(subject) is forbidden: User \"\(user)\" cannot \(verb) resource \"\(resource)\" "
                + "in API group \"\(group)\"\(scope)",
            details: Details(name: name, group: group.isEmpty ? nil : group, kind: resource))
    }

    /// 403 for a quota rejection, with the quota message the admission plugin writes, such as
    /// `exceeded quota: tier-free, requested: pods=1, used: pods=2, limited: pods=2`.
    public static func quotaForbidden(resource: String, group: String, name: String, reason: String) -> Status {
        Status(
            code: 403, reason: "Forbidden",
            message: "\(qualified(resource, group: group)) \"\(name)\" is forbidden: \(reason)",
            details: Details(name: name, group: group.isEmpty ? nil : group, kind: resource))
    }

    /// 422: `Job.batch "Bad_Name" is invalid: metadata.name: Invalid value: ...`, one cause per field.
    public static func invalid(kind: String, group: String, name: String, causes: [Details.Cause]) -> Status {
        let summary = causes.map { "\($0.field ?? ""): \($0.message ?? "")" }.joined(separator: ", ")
        return Status(
            code: 422, reason: "Invalid",
            message: "\(qualified(kind, group: group)) \"\(name)\" is invalid: \(summary)",
            details: Details(name: name, group: group.isEmpty ? nil : group, kind: kind, causes: causes))
    }

    /// 401: `Unauthorized`.
    public static let unauthorized = Status(code: 401, reason: "Unauthorized", message: "Unauthorized")
}
