import CSQLite

/// One open SQLite connection; owns the `sqlite3` handle and closes it.
///
/// Not `Sendable`: a connection is used by one thread at a time. Share one through `SQLiteDatabase`, which
/// holds it behind a mutex. The connection is opened in SQLite's multi-thread mode (`SQLITE_OPEN_NOMUTEX`)
/// because that outer mutex already serializes every use.
public final class SQLiteConnection {
    let handle: OpaquePointer
    /// How deep `transaction` calls are nested, to name savepoints.
    private var transactionDepth = 0

    /// Opens (creating if needed) the database at `path`; `":memory:"` opens a private in-memory one.
    ///
    /// File databases are switched to write-ahead logging so readers do not block the writer.
    ///
    /// - Parameters:
    ///   - path: a file path or `":memory:"`.
    ///   - busyTimeout: how long a statement waits for another connection's lock before failing `.busy`.
    /// - Throws: `SQLiteError` when the file cannot be opened or is not a database.
    public init(path: String, busyTimeout: Duration = .seconds(5)) throws(SQLiteError) {
        var opened: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let result = sqlite3_open_v2(path, &opened, flags, nil)
        guard result == SQLITE_OK, let opened else {
            let error = SQLiteError(resultCode: result, connection: opened, sql: nil)
            sqlite3_close_v2(opened)
            throw SQLiteError(
                error.code, resultCode: error.resultCode, message: "cannot open \(path): \(error.message)")
        }
        self.handle = opened
        sqlite3_extended_result_codes(opened, 1)
        let (seconds, attoseconds) = busyTimeout.components
        sqlite3_busy_timeout(opened, Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000))
        try execute("PRAGMA foreign_keys = ON")
        if path != ":memory:" && !path.isEmpty {
            try execute("PRAGMA journal_mode = WAL")
            try execute("PRAGMA synchronous = NORMAL")
        }
    }

    deinit {
        // close_v2 defers the close until every statement is finalized; statements keep the connection alive
        // anyway, so by now there are none.
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that take no parameters and return no rows (DDL, pragmas).
    ///
    /// - Throws: `SQLiteError` from the first statement that fails.
    public func execute(_ sql: String) throws(SQLiteError) {
        let result = sqlite3_exec(handle, sql, nil, nil, nil)
        guard result == SQLITE_OK else { throw SQLiteError(resultCode: result, connection: handle, sql: sql) }
    }

    /// Prepares `sql` for repeated use.
    ///
    /// - Throws: `SQLiteError` `.sql` when it does not parse.
    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        try SQLiteStatement(sql: sql, connection: self)
    }

    /// Runs a statement with `values` bound, returning how many rows it changed.
    ///
    /// - Throws: `SQLiteError`, for example `.constraint`.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> Int {
        _ = try prepare(sql).rows(values)
        return Int(sqlite3_changes64(handle))
    }

    /// Runs a query with `values` bound and returns all its rows.
    ///
    /// - Throws: `SQLiteError`.
    public func query(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> [SQLiteRow] {
        try prepare(sql).rows(values)
    }

    /// The rowid of the last row this connection inserted.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    ///
    /// The outermost call takes the write lock at once (`BEGIN IMMEDIATE`), so two writers queue on the busy
    /// timeout instead of deadlocking on a read-to-write upgrade. A nested call becomes a savepoint.
    ///
    /// - Throws: whatever `body` throws, after rolling back; `SQLiteError` when beginning or committing fails.
    @discardableResult
    public func transaction<Result>(_ body: (SQLiteConnection) throws -> Result) throws -> Result {
        let savepoint = "tierserve_\(transactionDepth)"
        try execute(transactionDepth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT \(savepoint)")
        transactionDepth += 1
        defer { transactionDepth -= 1 }
        do {
            let result = try body(self)
            try execute(transactionDepth == 1 ? "COMMIT" : "RELEASE \(savepoint)")
            return result
        } catch {
            if transactionDepth == 1 {
                try? execute("ROLLBACK")
            } else {
                try? execute("ROLLBACK TO \(savepoint); RELEASE \(savepoint)")
            }
            throw error
        }
    }
}
