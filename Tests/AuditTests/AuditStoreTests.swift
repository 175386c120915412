import Foundation
import SQLite
import Synchronization
import Testing

@testable import Audit

/// A temporary directory holding one audit database, removed when the test ends.
struct TemporaryTrail: ~Copyable {
    let directory: URL
    var path: String { directory.appendingPathComponent("audit.sqlite").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A second connection to the same file, as someone tampering with it would open.
    func raw() throws -> SQLiteDatabase {
        try SQLiteDatabase(path: path)
    }
}

/// A clock tests move by hand; the mutex guards the instant.
final class ManualClock: Sendable {
    private let instant: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        instant = Mutex(start)
    }

    var now: Date { instant.withLock { $0 } }

    func advance(by seconds: TimeInterval) {
        instant.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

func entry(_ index: Int, at date: Date = Date(timeIntervalSince1970: 1_800_000_000), status: Int = 200) -> AuditEntry {
    AuditEntry(
        requestID: "request-\(index)", receivedAt: date, completedAt: date.addingTimeInterval(0.004),
        remoteAddress: "127.0.0.1:40000", method: "GET", path: index.isMultiple(of: 2) ? "/free/jobs" : "/premium/jobs",
        query: "", principal: "grader", status: status, responseBytes: 120 + index, durationMicroseconds: 4_000,
        userAgent: "tests", tier: index.isMultiple(of: 2) ? "free" : "premium", namespace: "free-service",
        kind: "Job", name: "")
}

@Suite struct AuditStoreTests {
    @Test("appended rows read back as written and the chain verifies")
    func appendsAndVerifies() throws {
        let trail = try TemporaryTrail()
        let store = try AuditStore(path: trail.path)
        var written: [AuditRecord] = []
        for index in 1...10 { written.append(try store.append(entry(index))) }

        #expect(written.map(\.id) == Array(1...10))
        #expect(written.first?.previousHash == AuditStore.genesisHash)
        #expect(zip(written.dropFirst(), written).allSatisfy { $0.previousHash == $1.hash })
        #expect(try store.records() == written)

        let verification = try store.verify()
        #expect(verification.isValid)
        #expect(verification.checkedRows == 10)
        #expect(verification.headID == 10)
    }

    @Test("a reopened store continues the same chain")
    func reopens() throws {
        let trail = try TemporaryTrail()
        do {
            let store = try AuditStore(path: trail.path)
            for index in 1...3 { try store.append(entry(index)) }
        }
        let reopened = try AuditStore(path: trail.path)
        let record = try reopened.append(entry(4))
        #expect(record.id == 4)
        #expect(try reopened.verify().isValid)
    }

    @Test("listing filters by time, path prefix or glob, status, and limit")
    func filters() throws {
        let trail = try TemporaryTrail()
        let store = try AuditStore(path: trail.path)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for index in 1...10 {
            try store.append(entry(index, at: start.addingTimeInterval(Double(index)), status: index == 7 ? 401 : 200))
        }
        #expect(try store.records(matching: AuditFilter(since: start.addingTimeInterval(8))).map(\.id) == [8, 9, 10])
        #expect(try store.records(matching: AuditFilter(path: "/free")).map(\.id) == [2, 4, 6, 8, 10])
        #expect(try store.records(matching: AuditFilter(path: "/*/jobs")).count == 10)
        #expect(try store.records(matching: AuditFilter(path: "/prem*")).map(\.id) == [1, 3, 5, 7, 9])
        #expect(try store.records(matching: AuditFilter(status: 401)).map(\.id) == [7])
        #expect(try store.records(matching: AuditFilter(limit: 3)).map(\.id) == [8, 9, 10])
    }

    @Test("editing a row's status through raw SQL is caught at that row")
    func detectsEdit() throws {
        let trail = try TemporaryTrail()
        let store = try AuditStore(path: trail.path)
        for index in 1...8 { try store.append(entry(index)) }
        try trail.raw().run("UPDATE audit_entries SET status = 500 WHERE id = 5")

        let verification = try store.verify()
        #expect(verification.firstBreak == AuditVerification.Break(rowID: 5, reason: .contentChanged))
    }

    @Test("editing a row and recomputing its hash is caught at the next row")
    func detectsRehashedEdit() throws {
        let trail = try TemporaryTrail()
        let store = try AuditStore(path: trail.path)
        var records: [AuditRecord] = []
        for index in 1...6 { records.append(try store.append(entry(index))) }
        var forged = records[2].entry
        forged.status = 204
        let hash = forged.chainHash(id: 3, previousHash: records[1].hash)
        try trail.raw().run("UPDATE audit_entries SET status = 204, hash = ? WHERE id = 3", [.text(hash)])

        #expect(try store.verify().firstBreak == AuditVerification.Break(rowID: 4, reason: .brokenLink))
    }

    @Test("deleting a middle row is caught at the row after the gap")
    func detectsDeletion() throws {
        let trail = try TemporaryTrail()
        let store = try AuditStore(path: trail.path)
        for index in 1...8 { try store.append(entry(index)) }
        try trail.raw().run("DELETE FROM audit_entries WHERE id = 5")

        let failure = try #require(try store.verify().firstBreak)
        #expect(failure == AuditVerification.Break(rowID: 6, reason: .missingRows(expectedID: 5)))
        #expect(failure.description.contains("row 5 is missing"))
    }

    @Test("deleting the last rows is caught against the recorded head")
    func detectsTruncation() throws {
        let trail = try TemporaryTrail()
        let store = try AuditStore(path: trail.path)
        for index in 1...8 { try store.append(entry(index)) }
        try trail.raw().run("DELETE FROM audit_entries WHERE id >= 7")

        #expect(
            try store.verify().firstBreak == AuditVerification.Break(rowID: 8, reason: .missingTail(lastStoredID: 6)))
    }

    @Test("an inserted row is caught at its id, forged hash or not")
    func detectsInsertion() throws {
        let trail = try TemporaryTrail()
        let store = try AuditStore(path: trail.path)
        var records: [AuditRecord] = []
        for index in 1...5 { records.append(try store.append(entry(index))) }
        let raw = try trail.raw()
        let columns =
            "request_id, received_at_ms, completed_at_ms, remote_address, method, path, query, principal, status, "
            + "response_bytes, duration_us, user_agent, tier, namespace, kind, name"

        // A copy of row 2 under a new id, hash left as it was: the content no longer matches.
        try raw.run(
            "INSERT INTO audit_entries (id, \(columns), previous_hash, hash) SELECT 6, \(columns), previous_hash, hash "
                + "FROM audit_entries WHERE id = 2")
        #expect(try store.verify().firstBreak == AuditVerification.Break(rowID: 6, reason: .unrecordedRow))

        // A row chained correctly by someone who knows the scheme: still past the recorded head.
        try raw.run("DELETE FROM audit_entries WHERE id = 6")
        var forged = records[4].entry
        forged.requestID = "forged"
        let hash = forged.chainHash(id: 6, previousHash: records[4].hash)
        try raw.run(
            "INSERT INTO audit_entries (id, \(columns), previous_hash, hash) SELECT 6, 'forged', received_at_ms, "
                + "completed_at_ms, remote_address, method, path, query, principal, status, response_bytes, "
                + "duration_us, user_agent, tier, namespace, kind, name, hash, ? FROM audit_entries WHERE id = 5",
            [.text(hash)])
        #expect(try store.verify().firstBreak == AuditVerification.Break(rowID: 6, reason: .unrecordedRow))
    }

    @Test("retention by row count prunes the oldest rows and the chain still verifies from its anchor")
    func prunesByCount() throws {
        let trail = try TemporaryTrail()
        let store = try AuditStore(path: trail.path, retention: AuditRetention(maxRows: 10))
        for index in 1...25 { try store.append(entry(index)) }

        #expect(try store.count() == 10)
        #expect(try store.records(matching: AuditFilter(limit: 100)).map(\.id) == Array(16...25))
        let verification = try store.verify()
        #expect(verification.isValid)
        #expect(verification.anchorID == 15)
        #expect(verification.checkedRows == 10)

        // Deleting the first kept row is still caught: it no longer follows the anchor.
        try trail.raw().run("DELETE FROM audit_entries WHERE id = 16")
        #expect(
            try store.verify().firstBreak == AuditVerification.Break(rowID: 17, reason: .missingRows(expectedID: 16)))
    }

    @Test("retention by age prunes rows older than the limit on the injected clock")
    func prunesByAge() throws {
        let trail = try TemporaryTrail()
        let clock = ManualClock()
        let store = try AuditStore(
            path: trail.path, retention: AuditRetention(maxAge: .seconds(3600)), now: { clock.now })
        for index in 1...5 { try store.append(entry(index, at: clock.now)) }
        clock.advance(by: 1800)
        for index in 6...8 { try store.append(entry(index, at: clock.now)) }
        #expect(try store.count() == 8)

        clock.advance(by: 2400)
        try store.append(entry(9, at: clock.now))
        #expect(try store.records().map(\.id) == [6, 7, 8, 9])
        let verification = try store.verify()
        #expect(verification.isValid)
        #expect(verification.anchorID == 5)
    }

    @Test("500 appends from many concurrent tasks leave 500 rows in one valid chain")
    func concurrentAppends() async throws {
        let trail = try TemporaryTrail()
        let store = try AuditStore(path: trail.path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<50 {
                group.addTask {
                    for index in 0..<10 { try store.append(entry(task * 10 + index)) }
                }
            }
            try await group.waitForAll()
        }
        #expect(try store.count() == 500)
        let verification = try store.verify()
        #expect(verification.isValid)
        #expect(verification.checkedRows == 500)
        #expect(Set(try store.records(matching: AuditFilter(limit: 1000)).map(\.entry.requestID)).count == 500)
    }

    @Test("an unopenable path is an error naming the file")
    func cannotOpen() throws {
        #expect {
            try AuditStore(path: "/nonexistent-directory/audit.sqlite")
        } throws: { error in
            (error as? AuditError)?.code == .cannotOpen
                && (error as? AuditError)?.message.contains("/nonexistent-directory/audit.sqlite") == true
        }
    }
}
