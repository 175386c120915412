/// What `GET /version` answers: the API server's build.
public struct KubernetesVersion: Sendable, Hashable, Codable {
    /// The major version, such as `1`.
    public var major: String?
    /// The minor version, such as `30` (EKS writes `30+`).
    public var minor: String?
    /// The full version, such as `v1.30.2-eks-1552ad0`.
    public var gitVersion: String?
    /// The server's OS and architecture, such as `linux/amd64`.
    public var platform: String?

    /// A version from its parts.
    public init(major: String? = nil, minor: String? = nil, gitVersion: String? = nil, platform: String? = nil) {
        self.major = major
        self.minor = minor
        self.gitVersion = gitVersion
        self.platform = platform
    }
}
