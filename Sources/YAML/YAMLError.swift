/// Why YAML could not be parsed or converted, with the position it concerns (1-based line and column).
public struct YAMLError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Equatable {
        /// The text is not well-formed YAML (libyaml's reader, scanner or parser rejected it).
        case syntax
        /// An alias names an anchor not defined earlier in the same document.
        case undefinedAlias
        /// A mapping key is itself a mapping or sequence, which JSON cannot hold.
        case complexKey
        /// A mapping repeats a key.
        case duplicateKey
        /// A scalar with an explicit tag (`!!int x`) does not fit the tag.
        case invalidTaggedValue
        /// Nesting is deeper than the parser allows.
        case tooDeep
        /// A value has no JSON form (a non-finite number), met while converting to JSON.
        case notRepresentableInJSON
        /// The text held a different number of documents than the call expects.
        case documentCount
        /// libyaml ran out of memory.
        case outOfMemory
    }

    /// The kind of failure.
    public var code: Code
    /// The line, counting from 1; 0 when the failure has no position.
    public var line: Int
    /// The column, counting from 1; 0 when the failure has no position.
    public var column: Int
    /// What is wrong, in words; for a syntax error, libyaml's description of the problem and its context.
    public var message: String

    /// An error from its parts.
    public init(_ code: Code, line: Int = 0, column: Int = 0, message: String) {
        self.code = code
        self.line = line
        self.column = column
        self.message = message
    }

    /// `line L, column C: message`.
    public var description: String {
        line > 0 ? "line \(line), column \(column): \(message)" : message
    }
}
