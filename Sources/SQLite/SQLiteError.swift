import CSQLite

/// A failed SQLite call: the kind, mapped from the result code, plus SQLite's own message as context.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, from the primary result code.
    public enum Code: Sendable, Equatable {
        /// Another connection holds a lock longer than the busy timeout (`SQLITE_BUSY`).
        case busy
        /// A lock conflict within this connection (`SQLITE_LOCKED`).
        case locked
        /// A `UNIQUE`, `NOT NULL`, `CHECK` or foreign-key constraint failed (`SQLITE_CONSTRAINT`).
        case constraint
        /// The file is damaged (`SQLITE_CORRUPT`).
        case corrupt
        /// The file is not a database (`SQLITE_NOTADB`).
        case notADatabase
        /// The file could not be opened: missing directory, permissions (`SQLITE_CANTOPEN`).
        case cannotOpen
        /// The database is read-only (`SQLITE_READONLY`).
        case readOnly
        /// The disk is full (`SQLITE_FULL`).
        case full
        /// The operating system reported an I/O error (`SQLITE_IOERR`).
        case ioError
        /// The SQL does not parse or names something missing (`SQLITE_ERROR`).
        case sql
        /// A value has the wrong type for the column or the read (`SQLITE_MISMATCH`, or a typed read of
        /// another storage class).
        case typeMismatch
        /// The library was used out of order (`SQLITE_MISUSE`), such as binding a parameter that does not exist
        /// (`SQLITE_RANGE`).
        case misuse
        /// Any other result code.
        case other
    }

    /// The kind of failure.
    public var code: Code
    /// The extended result code, such as 2067 for `SQLITE_CONSTRAINT_UNIQUE`.
    public var resultCode: Int32
    /// SQLite's message for the failure; context for people, not for branching.
    public var message: String
    /// The statement that failed, when there was one.
    public var sql: String?

    /// An error from its parts.
    public init(_ code: Code, resultCode: Int32 = 0, message: String, sql: String? = nil) {
        self.code = code
        self.resultCode = resultCode
        self.message = message
        self.sql = sql
    }

    /// The error for `resultCode`, with the connection's message when there is a connection.
    init(resultCode: Int32, connection: OpaquePointer?, sql: String?) {
        let message = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        self.init(
            Self.classify(resultCode & 0xFF), resultCode: resultCode,
            message: message ?? String(cString: sqlite3_errstr(resultCode)), sql: sql)
    }

    /// `<message> (code N)` followed by the statement, if any.
    public var description: String {
        "\(message) (SQLite result code \(resultCode))" + (sql.map { " in: \($0)" } ?? "")
    }

    private static func classify(_ primary: Int32) -> Code {
        switch primary {
        case SQLITE_BUSY: .busy
        case SQLITE_LOCKED: .locked
        case SQLITE_CONSTRAINT: .constraint
        case SQLITE_CORRUPT: .corrupt
        case SQLITE_NOTADB: .notADatabase
        case SQLITE_CANTOPEN: .cannotOpen
        case SQLITE_READONLY: .readOnly
        case SQLITE_FULL: .full
        case SQLITE_IOERR: .ioError
        case SQLITE_ERROR: .sql
        case SQLITE_MISMATCH: .typeMismatch
        case SQLITE_MISUSE, SQLITE_RANGE: .misuse
        default: .other
        }
    }
}
