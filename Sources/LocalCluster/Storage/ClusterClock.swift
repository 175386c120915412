import Foundation

/// Where the local cluster reads the time and waits for it, injected so tests can decide what "now" is.
///
/// Deadlines (a Job's `activeDeadlineSeconds`, `ttlSecondsAfterFinished`) are computed from `now` and
/// awaited with `sleep(until:)`; nothing in the cluster reads the system clock directly.
public protocol ClusterClock: Sendable {
    /// The current wall-clock time, which timestamps objects.
    var now: Date { get }
    /// Returns at `deadline` (or at once when it has passed), or throws when the task is cancelled.
    func sleep(until deadline: Date) async throws
}

/// The system's clock.
public struct SystemClock: ClusterClock {
    /// The system clock.
    public init() {}

    /// `Date()`.
    public var now: Date { Date() }

    /// Sleeps on the task clock for the time left until `deadline`.
    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        if seconds > 0 {
            try await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded(.up))))
        }
    }
}
