/// Why an Envoy config file cannot be used by the gateway.
public struct EnvoyConfigError: Error, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Equatable, Sendable {
        /// The file is not YAML, or a field has the wrong shape.
        case invalid
        /// The field is valid Envoy configuration that the gateway does not implement.
        case unsupported
    }

    /// What went wrong.
    public let kind: Kind
    /// The field's path in the file, such as `static_resources.clusters[0].lb_policy`.
    public let field: String
    /// What is wrong with it and what the gateway accepts.
    public let reason: String

    /// Creates an error about `field`.
    public init(_ kind: Kind, field: String, _ reason: String) {
        self.kind = kind
        self.field = field
        self.reason = reason
    }

    /// `field: reason`, naming whether the field is unsupported or invalid.
    public var description: String {
        switch kind {
        case .invalid: "\(field): \(reason)"
        case .unsupported: "\(field): not implemented by the gateway; \(reason)"
        }
    }
}
