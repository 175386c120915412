import Foundation
import SQLite

/// The grader's audit trail: one row per request in a SQLite file, each row hash-chained to the one before.
///
/// `hash = SHA-256(previous_hash || canonical form of the row)`, so editing, deleting or inserting a row
/// breaks the chain, and `verify()` names the first row that fails. The table `audit_metadata` holds the
/// chain's two ends: the anchor (the id and hash of the last pruned row, 0 and 64 zeros before any pruning)
/// and the head (the id and hash of the last row appended), so pruning keeps the chain verifiable and
/// deleting rows at either end is detected too.
///
/// Appends are serialized by `SQLiteDatabase`'s mutex and each runs in one `BEGIN IMMEDIATE` transaction
/// (read the head, insert, move the head, prune), so the chain stays linear however many requests append at
/// once, and a second process writing the same file queues on the busy timeout instead of forking the chain.
/// The connection runs with `synchronous = FULL`: when `append` returns, the row is on disk, so a caller
/// that appends before answering never answers a request the trail does not hold.
///
/// What the chain cannot do: someone who can write the file can recompute every hash after an edit. The
/// chain makes tampering evident only against a head hash kept elsewhere (the CLI prints it).
public final class AuditStore: Sendable {
    /// The file, as given.
    public let path: String
    /// How long rows are kept.
    public let retention: AuditRetention

    private let database: SQLiteDatabase
    private let now: @Sendable () -> Date

    /// The hash the first row follows when nothing has been pruned.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// Opens (creating if needed) the trail at `path`.
    ///
    /// - Parameters:
    ///   - busyTimeout: how long an append waits for another process's write lock.
    ///   - retention: how many rows, and how old, to keep; pruning happens as rows are appended.
    ///   - now: the clock that age-based retention reads.
    /// - Throws: `AuditError` `.cannotOpen` naming the file, or `.unsupportedSchema`.
    public init(
        path: String, busyTimeout: Duration = .seconds(5), retention: AuditRetention = AuditRetention(),
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(AuditError) {
        self.path = path
        self.retention = retention
        self.now = now
        do {
            database = try SQLiteDatabase(path: path, busyTimeout: busyTimeout)
            try database.execute("PRAGMA synchronous = FULL")
            try database.transaction { connection in try Self.createSchema(connection) }
        } catch let error as SQLiteError {
            throw AuditError(
                .cannotOpen,
                message: "cannot open the audit database \(path); check the directory exists and is "
                    + "writable", underlying: error)
        } catch let error as AuditError {
            throw error
        } catch {
            throw AuditError(.cannotOpen, message: "cannot open the audit database \(path): \(error)")
        }
    }

    // MARK: - Writing

    /// Appends `entry` to the chain, prunes what retention no longer keeps, and returns the stored record once
    /// it is durable.
    ///
    /// - Throws: `AuditError` `.storage`; nothing is appended then.
    @discardableResult
    public func append(_ entry: AuditEntry) throws(AuditError) -> AuditRecord {
        let records = try append(contentsOf: [entry])
        guard let record = records.first else {
            throw AuditError(.storage, message: "the audit database \(path) appended no row")
        }
        return record
    }

    /// Appends `entries`, in order, in one transaction: one fsync for all of them. A server that holds each
    /// response until its entry is durable can so commit the entries of many concurrent requests at once
    /// (group commit) instead of one fsync per request.
    ///
    /// - Returns: the stored records, in order, once all are durable.
    /// - Throws: `AuditError` `.storage`; nothing is appended then.
    @discardableResult
    public func append(contentsOf entries: [AuditEntry]) throws(AuditError) -> [AuditRecord] {
        guard !entries.isEmpty else { return [] }
        do {
            return try database.transaction { connection in
                var head = try Self.chainEnd("head", connection)
                var records: [AuditRecord] = []
                records.reserveCapacity(entries.count)
                for entry in entries {
                    let id = head.id + 1
                    let hash = entry.chainHash(id: id, previousHash: head.hash)
                    try connection.run(
                        Self.insertSQL, [.integer(id)] + Self.columnValues(entry) + [.text(head.hash), .text(hash)])
                    records.append(AuditRecord(id: id, entry: entry, previousHash: head.hash, hash: hash))
                    head = (id, hash)
                }
                try Self.setChainEnd("head", id: head.id, hash: head.hash, connection)
                _ = try prune(connection, headID: head.id)
                return records
            }
        } catch {
            throw Self.storageError("cannot append to the audit database \(path)", error)
        }
    }

    /// Prunes the rows retention no longer keeps, moving the anchor to the last row pruned; appends do this
    /// already, so call it only to apply a retention change at once.
    ///
    /// - Returns: how many rows were pruned.
    /// - Throws: `AuditError` `.storage`.
    @discardableResult
    public func prune() throws(AuditError) -> Int {
        do {
            return try database.transaction { connection in
                try prune(connection, headID: try Self.chainEnd("head", connection).id)
            }
        } catch {
            throw Self.storageError("cannot prune the audit database \(path)", error)
        }
    }

    /// Deletes a prefix of the chain: every row up to the newest one that retention drops.
    private func prune(_ connection: SQLiteConnection, headID: Int64) throws -> Int {
        let anchor = try Self.chainEnd("anchor", connection)
        var lastPruned = anchor.id
        if let maxRows = retention.maxRows {
            lastPruned = max(lastPruned, headID - Int64(max(maxRows, 1)))
        }
        if let maxAge = retention.maxAge {
            let cutoff = now().addingTimeInterval(-Double(maxAge / .milliseconds(1)) / 1000)
            let rows = try connection.query(
                "SELECT MAX(id) AS id FROM audit_entries WHERE received_at_ms < ?",
                [.integer(AuditEntry.milliseconds(cutoff))])
            if case .integer(let id)? = rows.first?["id"] { lastPruned = max(lastPruned, id) }
        }
        guard lastPruned > anchor.id else { return 0 }

        let rows = try connection.query("SELECT hash FROM audit_entries WHERE id = ?", [.integer(lastPruned)])
        guard case .text(let hash)? = rows.first?["hash"] else { return 0 }
        let pruned = try connection.run("DELETE FROM audit_entries WHERE id <= ?", [.integer(lastPruned)])
        try Self.setChainEnd("anchor", id: lastPruned, hash: hash, connection)
        return pruned
    }

    // MARK: - Reading

    /// The records `filter` selects: the newest `filter.limit` of them, oldest first.
    ///
    /// - Throws: `AuditError` `.storage`.
    public func records(matching filter: AuditFilter = AuditFilter()) throws(AuditError) -> [AuditRecord] {
        var conditions: [String] = []
        var values: [SQLiteValue] = []
        if let since = filter.since {
            conditions.append("received_at_ms >= ?")
            values.append(.integer(AuditEntry.milliseconds(since)))
        }
        if let path = filter.path {
            let isGlob = path.contains { "*?[".contains($0) }
            conditions.append(isGlob ? "path GLOB ?" : "instr(path, ?) = 1")
            values.append(.text(path))
        }
        if let status = filter.status {
            conditions.append("status = ?")
            values.append(.integer(Int64(status)))
        }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        values.append(.integer(Int64(max(filter.limit, 0))))
        do {
            let rows = try database.query(
                "SELECT * FROM audit_entries\(whereClause) ORDER BY id DESC LIMIT ?", values)
            return try rows.reversed().map { (row) throws(SQLiteError) in try Self.record(from: row) }
        } catch {
            throw Self.storageError("cannot read the audit database \(path)", error)
        }
    }

    /// How many rows the trail holds now.
    ///
    /// - Throws: `AuditError` `.storage`.
    public func count() throws(AuditError) -> Int {
        do {
            let rows = try database.query("SELECT COUNT(*) AS n FROM audit_entries")
            return Int(try rows.first?.int64("n") ?? 0)
        } catch {
            throw Self.storageError("cannot read the audit database \(path)", error)
        }
    }

    /// Checks the whole chain from its anchor to its head, row by row, and reports the first row that fails.
    ///
    /// - Throws: `AuditError` `.storage` when the file cannot be read; a broken chain is a result, not an error.
    public func verify() throws(AuditError) -> AuditVerification {
        do {
            return try database.withConnection { (connection) throws(SQLiteError) in
                try Self.verify(connection)
            }
        } catch {
            throw Self.storageError("cannot read the audit database \(path)", error)
        }
    }

    private static func verify(_ connection: SQLiteConnection) throws(SQLiteError) -> AuditVerification {
        let anchor = try chainEnd("anchor", connection)
        let head = try chainEnd("head", connection)
        var result = AuditVerification(checkedRows: 0, anchorID: anchor.id, headID: head.id, firstBreak: nil)
        var expectedID = anchor.id + 1
        var previousHash = anchor.hash

        // Step through the rows without loading them all: a long trail holds many.
        let statement = try connection.prepare("SELECT * FROM audit_entries ORDER BY id")
        try statement.bind([])
        while try statement.step() {
            let row = statement.row()
            guard case .integer(let id)? = row["id"] else { continue }
            result.checkedRows += 1
            if id > head.id {
                result.firstBreak = .init(rowID: id, reason: .unrecordedRow)
                return result
            }
            if id != expectedID {
                result.firstBreak = .init(rowID: id, reason: .missingRows(expectedID: expectedID))
                return result
            }
            let storedHash = (try? row.string("hash")) ?? ""
            guard let record = try? record(from: row),
                record.entry.chainHash(id: id, previousHash: record.previousHash) == storedHash
            else {
                result.firstBreak = .init(rowID: id, reason: .contentChanged)
                return result
            }
            if record.previousHash != previousHash {
                result.firstBreak = .init(rowID: id, reason: .brokenLink)
                return result
            }
            previousHash = storedHash
            expectedID = id + 1
        }

        // The rows end where the chain says its head is, with the head's hash.
        let lastID = expectedID - 1
        if lastID < head.id {
            result.firstBreak = .init(rowID: head.id, reason: .missingTail(lastStoredID: lastID))
        } else if previousHash != head.hash {
            result.firstBreak = .init(rowID: head.id, reason: .contentChanged)
        }
        return result
    }

    // MARK: - Schema and rows

    private static let columns = [
        "request_id", "received_at_ms", "completed_at_ms", "remote_address", "method", "path", "query", "principal",
        "status", "response_bytes", "duration_us", "user_agent", "tier", "namespace", "kind", "name",
    ]

    private static let insertSQL =
        "INSERT INTO audit_entries (id, \(columns.joined(separator: ", ")), previous_hash, hash) VALUES ("
        + Array(repeating: "?", count: columns.count + 3).joined(separator: ", ") + ")"

    private static func createSchema(_ connection: SQLiteConnection) throws {
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS audit_metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS audit_entries (
                id INTEGER PRIMARY KEY,
                request_id TEXT NOT NULL,
                received_at_ms INTEGER NOT NULL,
                completed_at_ms INTEGER NOT NULL,
                remote_address TEXT NOT NULL,
                method TEXT NOT NULL,
                path TEXT NOT NULL,
                query TEXT NOT NULL,
                principal TEXT NOT NULL,
                status INTEGER NOT NULL,
                response_bytes INTEGER NOT NULL,
                duration_us INTEGER NOT NULL,
                user_agent TEXT NOT NULL,
                tier TEXT NOT NULL,
                namespace TEXT NOT NULL,
                kind TEXT NOT NULL,
                name TEXT NOT NULL,
                previous_hash TEXT NOT NULL,
                hash TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS audit_entries_received_at ON audit_entries (received_at_ms);
            """)
        let genesis = SQLiteValue.text(genesisHash)
        try connection.run(
            "INSERT OR IGNORE INTO audit_metadata (key, value) VALUES ('schema_version', '1'), ('anchor_id', '0'), "
                + "('anchor_hash', ?), ('head_id', '0'), ('head_hash', ?)", [genesis, genesis])
        let version = try connection.query("SELECT value FROM audit_metadata WHERE key = 'schema_version'")
        guard version.first?["value"] == .text("1") else {
            throw AuditError(
                .unsupportedSchema,
                message: "the audit database has schema version \(version.first?["value"].map { "\($0)" } ?? "none"); "
                    + "this grader reads version 1")
        }
    }

    private static func columnValues(_ entry: AuditEntry) -> [SQLiteValue] {
        [
            .text(entry.requestID), .integer(AuditEntry.milliseconds(entry.receivedAt)),
            .integer(AuditEntry.milliseconds(entry.completedAt)), .text(entry.remoteAddress), .text(entry.method),
            .text(entry.path), .text(entry.query), .text(entry.principal), .integer(Int64(entry.status)),
            .integer(Int64(entry.responseBytes)), .integer(entry.durationMicroseconds), .text(entry.userAgent),
            .text(entry.tier), .text(entry.namespace), .text(entry.kind), .text(entry.name),
        ]
    }

    private static func record(from row: SQLiteRow) throws(SQLiteError) -> AuditRecord {
        let entry = AuditEntry(
            requestID: try row.string("request_id"),
            receivedAt: AuditEntry.date(milliseconds: try row.int64("received_at_ms")),
            completedAt: AuditEntry.date(milliseconds: try row.int64("completed_at_ms")),
            remoteAddress: try row.string("remote_address"), method: try row.string("method"),
            path: try row.string("path"), query: try row.string("query"), principal: try row.string("principal"),
            status: Int(try row.int64("status")), responseBytes: Int(try row.int64("response_bytes")),
            durationMicroseconds: try row.int64("duration_us"), userAgent: try row.string("user_agent"),
            tier: try row.string("tier"), namespace: try row.string("namespace"), kind: try row.string("kind"),
            name: try row.string("name"))
        return AuditRecord(
            id: try row.int64("id"), entry: entry, previousHash: try row.string("previous_hash"),
            hash: try row.string("hash"))
    }

    /// The id and hash kept under `anchor_*` or `head_*`.
    private static func chainEnd(
        _ end: String, _ connection: SQLiteConnection
    ) throws(SQLiteError) -> (id: Int64, hash: String) {
        let rows = try connection.query(
            "SELECT key, value FROM audit_metadata WHERE key IN (?, ?)", [.text("\(end)_id"), .text("\(end)_hash")])
        var id: Int64 = 0
        var hash = genesisHash
        for row in rows {
            let value = try row.string("value")
            if try row.string("key") == "\(end)_id" { id = Int64(value) ?? 0 } else { hash = value }
        }
        return (id, hash)
    }

    private static func setChainEnd(
        _ end: String, id: Int64, hash: String, _ connection: SQLiteConnection
    ) throws(SQLiteError) {
        try connection.run(
            "INSERT OR REPLACE INTO audit_metadata (key, value) VALUES (?, ?), (?, ?)",
            [.text("\(end)_id"), .text(String(id)), .text("\(end)_hash"), .text(hash)])
    }

    private static func storageError(_ message: String, _ error: any Error) -> AuditError {
        if let error = error as? AuditError { return error }
        return AuditError(.storage, message: message, underlying: error as? SQLiteError)
    }
}
