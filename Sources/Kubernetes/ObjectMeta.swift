/// The `metadata` of every Kubernetes object.
public struct ObjectMeta: Sendable, Hashable, Codable {
    /// The name, unique per kind within a namespace.
    public var name: String?
    /// A prefix from which the server makes a unique name when `name` is empty (a Job's pods: `JOB-`).
    public var generateName: String?
    /// The namespace; nil for cluster-scoped objects such as a Namespace.
    public var namespace: String?
    /// The server-assigned unique id.
    public var uid: String?
    /// An opaque version that changes on every write, for optimistic concurrency and watches.
    public var resourceVersion: String?
    /// Incremented when the spec changes.
    public var generation: Int64?
    /// When the server created the object.
    public var creationTimestamp: KubernetesTime?
    /// When deletion was requested, for objects waiting on finalizers.
    public var deletionTimestamp: KubernetesTime?
    /// Identifying key/value pairs that selectors match.
    public var labels: [String: String]?
    /// Non-identifying key/value pairs.
    public var annotations: [String: String]?
    /// The objects this one belongs to, such as a Pod's Job.
    public var ownerReferences: [OwnerReference]?
    /// Conditions that must clear before the object is removed.
    public var finalizers: [String]?

    /// Metadata with the given name and namespace, everything else empty.
    public init(name: String? = nil, namespace: String? = nil, labels: [String: String]? = nil) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
    }
}

/// A link from an object to its owner; the garbage collector deletes dependents with their owner.
public struct OwnerReference: Sendable, Hashable, Codable {
    /// The owner's API version, such as `batch/v1`.
    public var apiVersion: String
    /// The owner's kind, such as `Job`.
    public var kind: String
    /// The owner's name.
    public var name: String
    /// The owner's uid.
    public var uid: String
    /// True when the owner is the managing controller.
    public var controller: Bool?
    /// True when the owner cannot be deleted in the foreground before this dependent.
    public var blockOwnerDeletion: Bool?

    /// A reference from its parts.
    public init(
        apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil,
        blockOwnerDeletion: Bool? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}

/// The `metadata` of a list.
public struct ListMeta: Sendable, Hashable, Codable {
    /// The version of the collection, from which a watch can start.
    public var resourceVersion: String?
    /// The token for the next page, when the list was paginated.
    public var continueToken: String?
    /// How many items remain after this page, when known.
    public var remainingItemCount: Int64?

    /// Empty list metadata, or one at a version.
    public init(resourceVersion: String? = nil) {
        self.resourceVersion = resourceVersion
    }

    private enum CodingKeys: String, CodingKey {
        case resourceVersion
        case continueToken = "continue"
        case remainingItemCount
    }
}

/// A reference to another object, as an Event's `involvedObject`.
public struct ObjectReference: Sendable, Hashable, Codable {
    /// The object's API version.
    public var apiVersion: String?
    /// The object's kind.
    public var kind: String?
    /// The object's namespace.
    public var namespace: String?
    /// The object's name.
    public var name: String?
    /// The object's uid.
    public var uid: String?
    /// The object's resource version when the reference was made.
    public var resourceVersion: String?
    /// A path into the object, such as `spec.containers{train}`.
    public var fieldPath: String?

    /// A reference from its usual parts.
    public init(
        apiVersion: String? = nil, kind: String? = nil, namespace: String? = nil, name: String? = nil,
        uid: String? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }
}

/// Selects objects by their labels: all of `matchLabels` and all of `matchExpressions` must hold.
public struct LabelSelector: Sendable, Hashable, Codable {
    /// One `key operator values` requirement.
    public struct Requirement: Sendable, Hashable, Codable {
        /// The label key.
        public var key: String
        /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
        public var `operator`: String
        /// The values for `In` and `NotIn`.
        public var values: [String]?

        /// A requirement from its parts.
        public init(key: String, operator: String, values: [String]? = nil) {
            self.key = key
            self.operator = `operator`
            self.values = values
        }
    }

    /// Labels that must be present with these values.
    public var matchLabels: [String: String]?
    /// Further requirements.
    public var matchExpressions: [Requirement]?

    /// A selector; an empty one matches everything.
    public init(matchLabels: [String: String]? = nil, matchExpressions: [Requirement]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    /// True when `labels` satisfy every requirement. An unknown operator matches nothing.
    public func matches(_ labels: [String: String]) -> Bool {
        for (key, value) in matchLabels ?? [:] where labels[key] != value {
            return false
        }
        for requirement in matchExpressions ?? [] {
            let value = labels[requirement.key]
            let values = requirement.values ?? []
            let holds: Bool
            switch requirement.operator {
            case "In": holds = value.map(values.contains) ?? false
            case "NotIn": holds = value.map { !values.contains($0) } ?? true
            case "Exists": holds = value != nil
            case "DoesNotExist": holds = value == nil
            default: holds = false
            }
            if !holds { return false }
        }
        return true
    }
}
