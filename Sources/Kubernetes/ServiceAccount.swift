/// A ServiceAccount (`v1`): the identity pods and workloads authenticate as,
/// `system:serviceaccount:NAMESPACE:NAME`.
public struct ServiceAccount: Sendable, Hashable, Codable {
    /// `v1`.
    public var apiVersion: String? = "v1"
    /// `ServiceAccount`.
    public var kind: String? = "ServiceAccount"
    /// The object metadata.
    public var metadata = ObjectMeta()
    /// Whether pods using the account get its token mounted by default.
    public var automountServiceAccountToken: Bool?

    /// The account `name` in `namespace`.
    public init(name: String, namespace: String) {
        self.metadata = ObjectMeta(name: name, namespace: namespace)
    }

    /// The user name the API server sees for this account.
    public var userName: String? {
        guard let name = metadata.name, let namespace = metadata.namespace else { return nil }
        return "system:serviceaccount:\(namespace):\(name)"
    }
}
