import Foundation

/// The last value read from the cluster and when it was read, refreshed at most once at a time.
///
/// Concurrent callers that find the value too old share one read: the first starts it, the rest await the
/// same task. A failed read leaves the last good value in place (its age keeps growing) and reaches every
/// caller that waited on it.
actor SnapshotCache<Value: Sendable> {
    /// A value and the time it was read.
    struct Snapshot: Sendable {
        var value: Value
        var readAt: Date
    }

    private let now: @Sendable () -> Date
    private let read: @Sendable () async throws(GraderError) -> Value
    private var latest: Snapshot?
    private var inFlight: Task<Snapshot, any Error>?

    /// A cache that reads with `read` and dates what it reads with `now`.
    init(now: @escaping @Sendable () -> Date, read: @escaping @Sendable () async throws(GraderError) -> Value) {
        self.now = now
        self.read = read
    }

    /// The cached value when it was read within `maxAge`, otherwise a fresh one.
    ///
    /// - Throws: `GraderError` from the read.
    func value(maxAge: Duration) async throws(GraderError) -> Snapshot {
        if let latest, now().timeIntervalSince(latest.readAt) * 1000 < Double(maxAge / .milliseconds(1)) {
            return latest
        }
        return try await refresh()
    }

    /// Reads again (or joins the read already under way) and keeps the result.
    ///
    /// - Throws: `GraderError` from the read.
    @discardableResult
    func refresh() async throws(GraderError) -> Snapshot {
        let task: Task<Snapshot, any Error>
        if let inFlight {
            task = inFlight
        } else {
            let read = self.read
            let now = self.now
            task = Task { () async throws -> Snapshot in
                let value = try await read()
                return Snapshot(value: value, readAt: now())
            }
            inFlight = task
        }
        do {
            let snapshot = try await task.value
            finish(task, with: snapshot)
            return snapshot
        } catch {
            finish(task, with: nil)
            throw (error as? GraderError) ?? .clusterUnavailable("reading the cluster failed: \(error)")
        }
    }

    /// How long ago the last good value was read, if there is one.
    var age: Duration? {
        latest.map { .milliseconds(Int64(now().timeIntervalSince($0.readAt) * 1000)) }
    }

    private func finish(_ task: Task<Snapshot, any Error>, with snapshot: Snapshot?) {
        // Only the first awaiter to return clears the task; later ones find it already replaced or gone.
        if let snapshot, latest.map({ $0.readAt <= snapshot.readAt }) ?? true { latest = snapshot }
        if inFlight == task { inFlight = nil }
    }
}
