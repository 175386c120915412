/// A Namespace (`v1`): a scope for names, quota and RBAC.
public struct Namespace: Sendable, Hashable, Codable {
    /// A Namespace's `status`.
    public struct Status: Sendable, Hashable, Codable {
        /// `Active` or `Terminating`.
        public var phase: String?

        /// A status in `phase`.
        public init(phase: String? = nil) {
            self.phase = phase
        }
    }

    /// `v1`.
    public var apiVersion: String? = "v1"
    /// `Namespace`.
    public var kind: String? = "Namespace"
    /// The object metadata; namespaces have no namespace of their own.
    public var metadata = ObjectMeta()
    /// The phase.
    public var status: Status?

    /// A namespace called `name`.
    public init(name: String, labels: [String: String]? = nil) {
        self.metadata = ObjectMeta(name: name, labels: labels)
    }
}
