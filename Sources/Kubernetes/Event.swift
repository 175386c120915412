/// An Event (`v1`): something that happened to an object, such as a Job's `FailedCreate`.
public struct Event: Sendable, Hashable, Codable {
    /// The component that reported an event.
    public struct Source: Sendable, Hashable, Codable {
        /// Such as `job-controller`.
        public var component: String?
        /// The node, for kubelet events.
        public var host: String?

        /// A source from its component.
        public init(component: String? = nil) {
            self.component = component
        }
    }

    /// `v1`.
    public var apiVersion: String? = "v1"
    /// `Event`.
    public var kind: String? = "Event"
    /// The object metadata.
    public var metadata = ObjectMeta()
    /// The object the event is about.
    public var involvedObject = ObjectReference()
    /// A machine-readable reason, such as `FailedCreate` or `SuccessfulCreate`.
    public var reason: String?
    /// A human-readable message.
    public var message: String?
    /// `Normal` or `Warning`.
    public var type: String?
    /// How many times it happened.
    public var count: Int32?
    /// When it first happened.
    public var firstTimestamp: KubernetesTime?
    /// When it last happened.
    public var lastTimestamp: KubernetesTime?
    /// Who reported it.
    public var source: Source?

    /// An event about `involvedObject`.
    public init(
        metadata: ObjectMeta = ObjectMeta(), involvedObject: ObjectReference, reason: String, message: String,
        type: String = "Normal"
    ) {
        self.metadata = metadata
        self.involvedObject = involvedObject
        self.reason = reason
        self.message = message
        self.type = type
    }
}
