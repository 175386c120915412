import Synchronization

/// A SQLite connection shared between threads and tasks.
///
/// The connection sits behind a `Mutex` rather than in an actor: SQLite calls are synchronous and short,
/// callers include code that is not async (libmicrohttpd's threads, for one), and an actor would run the same
/// blocking calls on the cooperative pool anyway while adding a hop to every query. The mutex protects the
/// connection and every statement it prepares; nothing escapes `withConnection`. A statement that waits on
/// another process's lock blocks its caller for up to the busy timeout, so keep transactions short.
///
/// ```swift
/// let database = try SQLiteDatabase(path: "audit.sqlite")
/// try database.execute("CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, tier TEXT NOT NULL)")
/// try database.run("INSERT INTO runs (tier) VALUES (?)", ["free"])
/// let rows = try database.query("SELECT id, tier FROM runs")
/// ```
public final class SQLiteDatabase: Sendable {
    private let connection: Mutex<SQLiteConnection>

    /// Opens the database at `path` (`":memory:"` for a private in-memory one); see `SQLiteConnection.init`.
    ///
    /// - Throws: `SQLiteError` when it cannot be opened.
    public init(path: String, busyTimeout: Duration = .seconds(5)) throws(SQLiteError) {
        connection = Mutex(try SQLiteConnection(path: path, busyTimeout: busyTimeout))
    }

    /// Runs `body` with the connection locked to this caller.
    ///
    /// - Throws: whatever `body` throws.
    public func withConnection<Result: Sendable, Failure: Error>(
        _ body: (SQLiteConnection) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try connection.withLock { (connection) throws(Failure) -> Result in try body(connection) }
    }

    /// Runs statements without parameters; see `SQLiteConnection.execute`.
    public func execute(_ sql: String) throws(SQLiteError) {
        try withConnection { (connection) throws(SQLiteError) in try connection.execute(sql) }
    }

    /// Runs a statement and returns how many rows changed; see `SQLiteConnection.run`.
    @discardableResult
    public func run(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> Int {
        try withConnection { (connection) throws(SQLiteError) in try connection.run(sql, values) }
    }

    /// Runs a query and returns its rows; see `SQLiteConnection.query`.
    public func query(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> [SQLiteRow] {
        try withConnection { (connection) throws(SQLiteError) in try connection.query(sql, values) }
    }

    /// Runs `body` in a transaction on the locked connection; see `SQLiteConnection.transaction`.
    @discardableResult
    public func transaction<Result: Sendable>(_ body: (SQLiteConnection) throws -> Result) throws -> Result {
        try withConnection { (connection) throws in try connection.transaction(body) }
    }
}
