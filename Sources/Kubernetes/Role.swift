/// One RBAC rule: these verbs on these resources in these API groups.
public struct PolicyRule: Sendable, Hashable, Codable {
    /// API groups; `""` is the core group, `*` any.
    public var apiGroups: [String]?
    /// Resources such as `jobs` or `pods/log`; `*` any.
    public var resources: [String]?
    /// Verbs such as `get`, `list`, `watch`, `create`, `delete`; `*` any.
    public var verbs: [String]
    /// Specific object names, when the rule is that narrow.
    public var resourceNames: [String]?

    /// A rule from its parts.
    public init(apiGroups: [String]?, resources: [String]?, verbs: [String], resourceNames: [String]? = nil) {
        self.apiGroups = apiGroups
        self.resources = resources
        self.verbs = verbs
        self.resourceNames = resourceNames
    }

    /// True when the rule allows `verb` on `resource` in `group` (for object `name`, when given).
    public func allows(verb: String, group: String, resource: String, name: String? = nil) -> Bool {
        func covers(_ list: [String]?, _ value: String) -> Bool {
            (list ?? []).contains { $0 == "*" || $0 == value }
        }
        guard covers(verbs, verb), covers(apiGroups, group), covers(resources, resource) else { return false }
        guard let names = resourceNames, !names.isEmpty else { return true }
        return name.map(names.contains) ?? false
    }
}

/// A Role (`rbac.authorization.k8s.io/v1`): rules that hold within one namespace.
public struct Role: Sendable, Hashable, Codable {
    /// `rbac.authorization.k8s.io/v1`.
    public var apiVersion: String? = "rbac.authorization.k8s.io/v1"
    /// `Role`.
    public var kind: String? = "Role"
    /// The object metadata.
    public var metadata = ObjectMeta()
    /// The rules.
    public var rules: [PolicyRule]?

    /// A role with metadata and rules.
    public init(metadata: ObjectMeta = ObjectMeta(), rules: [PolicyRule] = []) {
        self.metadata = metadata
        self.rules = rules
    }
}

/// A RoleBinding (`rbac.authorization.k8s.io/v1`): grants a role to subjects in one namespace.
public struct RoleBinding: Sendable, Hashable, Codable {
    /// Who is granted the role.
    public struct Subject: Sendable, Hashable, Codable {
        /// `ServiceAccount`, `User` or `Group`.
        public var kind: String
        /// The subject's name.
        public var name: String
        /// The service account's namespace.
        public var namespace: String?
        /// `rbac.authorization.k8s.io` for users and groups; empty for service accounts.
        public var apiGroup: String?

        /// A subject from its parts.
        public init(kind: String, name: String, namespace: String? = nil, apiGroup: String? = nil) {
            self.kind = kind
            self.name = name
            self.namespace = namespace
            self.apiGroup = apiGroup
        }
    }

    /// The role granted.
    public struct RoleRef: Sendable, Hashable, Codable {
        /// `rbac.authorization.k8s.io`.
        public var apiGroup: String
        /// `Role` or `ClusterRole`.
        public var kind: String
        /// The role's name.
        public var name: String

        /// A reference to the Role (or ClusterRole) `name`.
        public init(kind: String = "Role", name: String, apiGroup: String = "rbac.authorization.k8s.io") {
            self.apiGroup = apiGroup
            self.kind = kind
            self.name = name
        }
    }

    /// `rbac.authorization.k8s.io/v1`.
    public var apiVersion: String? = "rbac.authorization.k8s.io/v1"
    /// `RoleBinding`.
    public var kind: String? = "RoleBinding"
    /// The object metadata.
    public var metadata = ObjectMeta()
    /// The role granted.
    public var roleRef: RoleRef
    /// Who gets it.
    public var subjects: [Subject]?

    /// A binding of `roleRef` to `subjects`.
    public init(metadata: ObjectMeta = ObjectMeta(), roleRef: RoleRef, subjects: [Subject]) {
        self.metadata = metadata
        self.roleRef = roleRef
        self.subjects = subjects
    }
}
