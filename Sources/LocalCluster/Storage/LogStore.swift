import Foundation
import SQLite
import Synchronization

/// Container output, stored in the `logs` table as it arrives, readable during and after the run, and
/// streamable to followers (`kubectl logs -f`).
///
/// Appends and follower registration happen under one lock, so a follower that reads the stored output
/// and then subscribes misses nothing and sees nothing twice.
final class LogStore: Sendable {
    private struct Key: Hashable {
        var podUID: String
        var container: String
    }

    private struct State {
        /// Containers whose output is still open (their process runs).
        var open: Set<Key> = []
        /// Followers of open containers.
        var followers: [Key: [Int: AsyncStream<[UInt8]>.Continuation]] = [:]
        var nextID = 0
    }

    private let database: SQLiteDatabase
    private let state = Mutex(State())

    init(database: SQLiteDatabase) {
        self.database = database
    }

    /// Marks a container's output open; followers wait for more until `close`.
    func open(podUID: String, container: String) {
        _ = state.withLock { $0.open.insert(Key(podUID: podUID, container: container)) }
    }

    /// Stores `bytes` and passes them to followers.
    func append(podUID: String, container: String, bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        state.withLock { state in
            _ = try? database.run(
                "INSERT INTO logs (pod_uid, container, data) VALUES (?, ?, ?)",
                [.text(podUID), .text(container), .blob(bytes)])
            for follower in state.followers[Key(podUID: podUID, container: container)]?.values ?? [:].values {
                follower.yield(bytes)
            }
        }
    }

    /// Marks a container's output complete and ends its followers' streams.
    func close(podUID: String, container: String) {
        let key = Key(podUID: podUID, container: container)
        let followers = state.withLock { state in
            state.open.remove(key)
            return state.followers.removeValue(forKey: key)?.values.map { $0 } ?? []
        }
        // Outside the lock: finishing runs the stream's termination handler, which takes the lock.
        for follower in followers { follower.finish() }
    }

    /// Everything the container wrote so far.
    func read(podUID: String, container: String) throws -> [UInt8] {
        let rows = try database.query(
            "SELECT data FROM logs WHERE pod_uid = ? AND container = ? ORDER BY id", [.text(podUID), .text(container)])
        return try rows.flatMap { try $0.blob("data") }
    }

    /// The stored output followed by whatever arrives until the container's output closes.
    func follow(podUID: String, container: String, transform: @escaping @Sendable ([UInt8]) -> [UInt8]) -> AsyncStream<
        [UInt8]
    > {
        let key = Key(podUID: podUID, container: container)
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        let id: Int? = state.withLock { state in
            let stored = (try? read(podUID: podUID, container: container)) ?? []
            let first = transform(stored)
            if !first.isEmpty { continuation.yield(first) }
            guard state.open.contains(key) else {
                continuation.finish()
                return nil
            }
            let id = state.nextID
            state.nextID += 1
            state.followers[key, default: [:]][id] = continuation
            return id
        }
        if let id {
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.followers[key]?.removeValue(forKey: id) }
            }
        }
        return stream
    }

    /// Removes a deleted pod's output.
    func remove(podUID: String) {
        _ = try? database.run("DELETE FROM logs WHERE pod_uid = ?", [.text(podUID)])
    }
}
