/// A SelfSubjectAccessReview (`authorization.k8s.io/v1`): "may I do this?", as `kubectl auth can-i` asks.
public struct SelfSubjectAccessReview: Sendable, Hashable, Codable {
    /// The action asked about.
    public struct ResourceAttributes: Sendable, Hashable, Codable {
        /// The namespace; empty for all or cluster scope.
        public var namespace: String?
        /// The verb, such as `create`.
        public var verb: String?
        /// The API group; `""` for core.
        public var group: String?
        /// The resource, such as `jobs`.
        public var resource: String?
        /// The subresource, such as `log`.
        public var subresource: String?
        /// The object's name.
        public var name: String?

        /// Attributes for `verb` on `resource` in `group`, in `namespace`.
        public init(verb: String, group: String = "", resource: String, namespace: String? = nil) {
            self.verb = verb
            self.group = group
            self.resource = resource
            self.namespace = namespace
        }
    }

    /// A review's `spec`.
    public struct Spec: Sendable, Hashable, Codable {
        /// The action asked about.
        public var resourceAttributes: ResourceAttributes?

        /// A spec asking about `resourceAttributes`.
        public init(resourceAttributes: ResourceAttributes? = nil) {
            self.resourceAttributes = resourceAttributes
        }
    }

    /// A review's `status`: the answer.
    public struct Status: Sendable, Hashable, Codable {
        /// Whether the action is allowed.
        public var allowed: Bool
        /// Whether it is explicitly denied.
        public var denied: Bool?
        /// Why.
        public var reason: String?

        /// An answer.
        public init(allowed: Bool, reason: String? = nil) {
            self.allowed = allowed
            self.reason = reason
        }
    }

    /// `authorization.k8s.io/v1`.
    public var apiVersion: String? = "authorization.k8s.io/v1"
    /// `SelfSubjectAccessReview`.
    public var kind: String? = "SelfSubjectAccessReview"
    /// The object metadata; usually empty.
    public var metadata: ObjectMeta?
    /// The question.
    public var spec: Spec
    /// The answer, filled by the server.
    public var status: Status?

    /// A review asking about `attributes`.
    public init(attributes: ResourceAttributes) {
        self.spec = Spec(resourceAttributes: attributes)
    }
}
