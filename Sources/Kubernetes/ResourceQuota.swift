/// A ResourceQuota (`v1`): caps on what a namespace's objects may request in total.
public struct ResourceQuota: Sendable, Hashable, Codable {
    /// A quota's `spec`.
    public struct Spec: Sendable, Hashable, Codable {
        /// The caps, by resource name (`pods`, `requests.cpu`, `limits.memory`, ...).
        public var hard: [String: Quantity]?

        /// A spec with `hard` caps.
        public init(hard: [String: Quantity]? = nil) {
            self.hard = hard
        }
    }

    /// A quota's `status`: `hard` mirrors the spec, `used` sums the non-terminal pods.
    public struct Status: Sendable, Hashable, Codable {
        /// The caps in force.
        public var hard: [String: Quantity]?
        /// What is counted against them.
        public var used: [String: Quantity]?

        /// A status from caps and usage.
        public init(hard: [String: Quantity]? = nil, used: [String: Quantity]? = nil) {
            self.hard = hard
            self.used = used
        }
    }

    /// `v1`.
    public var apiVersion: String? = "v1"
    /// `ResourceQuota`.
    public var kind: String? = "ResourceQuota"
    /// The object metadata.
    public var metadata = ObjectMeta()
    /// The caps.
    public var spec: Spec?
    /// The caps in force and the usage.
    public var status: Status?

    /// A quota with metadata and caps.
    public init(metadata: ObjectMeta = ObjectMeta(), hard: [String: Quantity]? = nil) {
        self.metadata = metadata
        self.spec = Spec(hard: hard)
    }
}

/// A LimitRange (`v1`): per-container or per-pod bounds and defaults in a namespace.
public struct LimitRange: Sendable, Hashable, Codable {
    /// One group of bounds.
    public struct Item: Sendable, Hashable, Codable {
        /// `Container`, `Pod` or `PersistentVolumeClaim`.
        public var type: String
        /// The most each object may set.
        public var max: [String: Quantity]?
        /// The least each object may set.
        public var min: [String: Quantity]?
        /// Limits applied to containers that set none.
        public var `default`: [String: Quantity]?
        /// Requests applied to containers that set none.
        public var defaultRequest: [String: Quantity]?
        /// The largest limit-to-request ratio allowed.
        public var maxLimitRequestRatio: [String: Quantity]?

        /// An item for objects of `type`.
        public init(type: String) {
            self.type = type
        }
    }

    /// A LimitRange's `spec`.
    public struct Spec: Sendable, Hashable, Codable {
        /// The bounds.
        public var limits: [Item]

        /// A spec with `limits`.
        public init(limits: [Item] = []) {
            self.limits = limits
        }
    }

    /// `v1`.
    public var apiVersion: String? = "v1"
    /// `LimitRange`.
    public var kind: String? = "LimitRange"
    /// The object metadata.
    public var metadata = ObjectMeta()
    /// The bounds.
    public var spec: Spec?

    /// A LimitRange with metadata and bounds.
    public init(metadata: ObjectMeta = ObjectMeta(), limits: [Item] = []) {
        self.metadata = metadata
        self.spec = Spec(limits: limits)
    }
}
