/// How the client proves who it is, beyond a client certificate.
public enum Credentials: Sendable, Equatable {
    /// No `Authorization` header.
    case none
    /// A fixed bearer token.
    case token(String)
    /// A bearer token read from a file, re-read whenever the file changes: a service account's projected
    /// token is rotated in place by the kubelet.
    case tokenFile(path: String)
    /// A bearer token printed by a credential plugin, as kubeconfig's `user.exec` describes (EKS uses
    /// `aws eks get-token`). The token is cached until the expiry the plugin reports.
    case exec(ExecCredentialCommand)
}

/// A kubeconfig `exec` credential plugin: a command that prints an `ExecCredential` JSON whose
/// `status.token` is the bearer token.
public struct ExecCredentialCommand: Sendable, Equatable {
    /// The program; a bare name is looked up in `PATH`, a path with a `/` is used as given.
    public var command: String
    /// Its arguments.
    public var arguments: [String]
    /// Variables added to the client's environment for the plugin, in order.
    public var environment: [String: String]
    /// The `client.authentication.k8s.io` version the plugin speaks, such as
    /// `client.authentication.k8s.io/v1beta1`; passed to it in `KUBERNETES_EXEC_INFO`.
    public var apiVersion: String

    /// A plugin invocation.
    public init(
        command: String, arguments: [String] = [], environment: [String: String] = [:],
        apiVersion: String = "client.authentication.k8s.io/v1beta1"
    ) {
        self.command = command
        self.arguments = arguments
        self.environment = environment
        self.apiVersion = apiVersion
    }
}
