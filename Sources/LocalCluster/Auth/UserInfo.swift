/// Who a request comes from, as the authenticator establishes it.
struct UserInfo: Sendable, Hashable {
    /// Such as `system:admin` or `system:serviceaccount:free-service:free-tier`.
    let name: String
    /// Such as `system:masters`, `system:serviceaccounts`, `system:authenticated`.
    let groups: [String]

    /// The cluster administrator, whom RBAC always allows.
    static let admin = UserInfo(name: "system:admin", groups: ["system:masters", "system:authenticated"])

    /// The identity of service account `name` in `namespace`.
    static func serviceAccount(namespace: String, name: String) -> UserInfo {
        UserInfo(
            name: "system:serviceaccount:\(namespace):\(name)",
            groups: ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", "system:authenticated"])
    }

    /// The namespace and name when this is a service account.
    var serviceAccount: (namespace: String, name: String)? {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "system", parts[1] == "serviceaccount" else { return nil }
        return (String(parts[2]), String(parts[3]))
    }
}
