/// Why a model, a dataset or an input image could not be used.
public struct InferenceError: Error, Equatable, CustomStringConvertible {
    /// What went wrong, in a form a caller can branch on.
    public enum Kind: Equatable, Sendable {
        /// A file the model or dataset needs does not exist.
        case fileNotFound
        /// A file exists but its contents are not what its format requires.
        case corrupt
        /// A file is well formed but uses something this reader does not implement.
        case unsupported
        /// A model's layers, weights or inputs do not fit together.
        case shapeMismatch
        /// An input image is not one the model can classify.
        case invalidImage
    }

    /// What went wrong.
    public let kind: Kind
    /// A sentence naming the file or input, what was found and what was expected.
    public let message: String

    /// Creates an error of `kind` with a message for people.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
