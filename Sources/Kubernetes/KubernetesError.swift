/// A problem with a Kubernetes value the stack was given.
public struct KubernetesError: Error, Sendable, CustomStringConvertible {
    /// The kind of problem.
    public enum Code: Sendable, Equatable {
        /// A resource quantity does not parse.
        case invalidQuantity
        /// A timestamp is not RFC 3339.
        case invalidTime
        /// A value could not be converted to or from JSON.
        case invalidJSON
    }

    /// The kind of problem.
    public var code: Code
    /// What is wrong and how to fix it, naming the value.
    public var message: String

    /// An error from its parts.
    public init(_ code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
