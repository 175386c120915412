import SQLite

/// Why the audit trail could not be opened, written or read.
public struct AuditError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Equatable {
        /// The database file could not be opened or set up.
        case cannotOpen
        /// A read or write failed in SQLite.
        case storage
        /// The file holds tables this version does not understand.
        case unsupportedSchema
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, naming the file, and what to do.
    public var message: String
    /// The SQLite error behind it, when there was one.
    public var underlying: SQLiteError?

    /// An error from its parts.
    public init(_ code: Code, message: String, underlying: SQLiteError? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// The message, then SQLite's account.
    public var description: String {
        message + (underlying.map { ": \($0)" } ?? "")
    }
}
