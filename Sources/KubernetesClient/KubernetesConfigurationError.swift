/// Why no usable configuration could be built: a missing file, a kubeconfig that does not say enough, or a
/// feature of the kubeconfig this client does not implement.
public struct KubernetesConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The kind of problem, stable enough to branch on.
    public enum Code: Sendable, Equatable {
        /// Nothing to configure from: no explicit server, no kubeconfig file, and not inside a pod.
        case noConfiguration
        /// A file the configuration names (kubeconfig, token, certificate) cannot be read.
        case unreadableFile
        /// The kubeconfig is not YAML of the expected shape.
        case invalidKubeconfig
        /// The context asked for (or `current-context`) is not in the kubeconfig.
        case missingContext
        /// A context names a cluster or user that the kubeconfig does not define.
        case missingEntry
        /// A required field is empty or absent.
        case missingField
        /// A field holds a value that cannot be used, such as bad base64.
        case invalidValue
        /// The kubeconfig uses a feature this client does not implement.
        case unsupported
        /// An `exec` credential plugin failed or printed something other than an ExecCredential with a token.
        case credentialPluginFailed
    }

    /// The kind of problem.
    public var code: Code
    /// The field or file concerned, such as `users[admin].user.exec` or a path; empty when none applies.
    public var field: String
    /// What is wrong and what to do about it, naming the field and the value.
    public var message: String

    /// An error from its parts.
    public init(_ code: Code, field: String = "", message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    /// The message, prefixed by the field when there is one.
    public var description: String { field.isEmpty ? message : "\(field): \(message)" }
}
