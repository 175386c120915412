import Foundation
import SQLite
import Testing

/// A fresh directory for database files, removed when `body` returns.
private func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory.path)
}

private struct Rollback: Error {}

@Suite struct SQLiteTests {
    @Test(
        "each storage class survives a write and a read",
        arguments: [
            SQLiteValue.integer(Int64.min), .integer(42), .real(-2.5), .text("héllo, wörld"), .text(""),
            .blob([0, 1, 255]), .blob([]), .null,
        ])
    func roundTrip(value: SQLiteValue) throws {
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute("CREATE TABLE t (v)")
        try database.run("INSERT INTO t (v) VALUES (?)", [value])
        let rows = try database.query("SELECT v FROM t")
        #expect(rows.map { $0["v"] } == [value])
    }

    @Test("typed column reads return the stored type and refuse another")
    func typedReads() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, tier TEXT, score REAL, log BLOB, note TEXT)")
        try database.run("INSERT INTO runs VALUES (?, ?, ?, ?, ?)", [7, "free", 0.75, .blob([9]), nil])
        let row = try #require(try database.query("SELECT * FROM runs").first)
        #expect(try row.int64("id") == 7)
        #expect(try row.string("tier") == "free")
        #expect(try row.double("score") == 0.75)
        #expect(try row.blob("log") == [9])
        #expect(try row.isNull("note"))
        let error = #expect(throws: SQLiteError.self) { try row.int64("tier") }
        #expect(error?.code == .typeMismatch)
    }

    @Test("a UNIQUE violation is a typed constraint error with SQLite's message")
    func constraintViolation() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute("CREATE TABLE jobs (name TEXT PRIMARY KEY)")
        try database.run("INSERT INTO jobs VALUES (?)", ["train"])
        let error = #expect(throws: SQLiteError.self) {
            try database.run("INSERT INTO jobs VALUES (?)", ["train"])
        }
        #expect(error?.code == .constraint)
        #expect(error?.resultCode == 1555)  // SQLITE_CONSTRAINT_PRIMARYKEY
        #expect(error?.message.contains("jobs.name") == true)
    }

    @Test("SQL that does not parse is a typed sql error naming the statement")
    func syntaxError() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        let error = #expect(throws: SQLiteError.self) { try database.query("SELEKT 1") }
        #expect(error?.code == .sql)
        #expect(error?.sql == "SELEKT 1")
    }

    @Test("a transaction whose body throws leaves nothing behind; one that returns commits")
    func transactionRollback() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        try database.execute("CREATE TABLE t (v INTEGER)")
        #expect(throws: Rollback.self) {
            try database.transaction { connection in
                try connection.run("INSERT INTO t VALUES (1)")
                throw Rollback()
            }
        }
        #expect(try database.query("SELECT count(*) AS n FROM t").first?.int64("n") == 0)

        try database.transaction { connection in
            try connection.run("INSERT INTO t VALUES (2)")
            // A nested transaction that throws undoes only its own work.
            try? connection.transaction { inner in
                try inner.run("INSERT INTO t VALUES (3)")
                throw Rollback()
            }
        }
        #expect(try database.query("SELECT v FROM t").map { try $0.int64("v") } == [2])
    }

    @Test("a prepared statement can be rebound and stepped many times")
    func preparedStatement() throws {
        let database = try SQLiteDatabase(path: ":memory:")
        let total = try database.withConnection { (connection) throws(SQLiteError) -> Int64 in
            try connection.execute("CREATE TABLE t (v INTEGER)")
            let insert = try connection.prepare("INSERT INTO t VALUES (?)")
            for value in 1...100 {
                try insert.bind([.integer(Int64(value))])
                _ = try insert.step()
            }
            return try connection.query("SELECT sum(v) AS s FROM t")[0].int64("s")
        }
        #expect(total == 5050)
    }

    @Test("two connections to one WAL file writing at once lose no rows")
    func concurrentWriters() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/audit.sqlite"
            let setup = try SQLiteDatabase(path: path)
            try setup.execute("CREATE TABLE events (writer INTEGER, n INTEGER)")
            #expect(try setup.query("PRAGMA journal_mode").first?.string("journal_mode") == "wal")

            let writers = try (0..<2).map { _ in try SQLiteDatabase(path: path) }
            let group = DispatchGroup()
            let failures = Failures()
            for (index, writer) in writers.enumerated() {
                DispatchQueue.global().async(group: group) {
                    for n in 0..<200 {
                        do {
                            try writer.transaction { connection in
                                try connection.run(
                                    "INSERT INTO events VALUES (?, ?)", [.integer(Int64(index)), .integer(Int64(n))])
                            }
                        } catch {
                            failures.record(error)
                        }
                    }
                }
            }
            group.wait()
            #expect(failures.count == 0)
            #expect(try setup.query("SELECT count(*) AS n FROM events").first?.int64("n") == 400)
        }
    }

    @Test("opening a path in a missing directory is a typed cannotOpen error")
    func cannotOpen() {
        let error = #expect(throws: SQLiteError.self) {
            _ = try SQLiteDatabase(path: "/nonexistent-\(UUID().uuidString)/db.sqlite")
        }
        #expect(error?.code == .cannotOpen)
    }
}

/// Errors seen by writer threads.
private final class Failures: @unchecked Sendable {
    // `lock` protects `errors`.
    private let lock = NSLock()
    private var errors: [any Error] = []

    func record(_ error: any Error) {
        lock.withLock { errors.append(error) }
    }

    var count: Int { lock.withLock { errors.count } }
}
