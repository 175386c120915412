import Kubernetes

/// One thing a watch reports.
public enum WatchChange<Object: Sendable>: Sendable {
    /// The object was created (or, right after a reconnect, is reported again).
    case added(Object)
    /// The object changed.
    case modified(Object)
    /// The object was deleted; this is its last state.
    case deleted(Object)
    /// Nothing changed, but the collection is now at `resourceVersion`; the watch resumes from there.
    case bookmark(resourceVersion: String)
    /// The server reported an error in the stream other than an expired resource version; the watch
    /// reconnects after a pause.
    case error(Status)
    /// A fresh list of the whole collection: first when the watch started without a resource version, and
    /// again whenever the server said the watch's resource version had expired (410 Gone). Changes missed in
    /// between are not reported one by one; compare with what you held.
    case resynced([Object], resourceVersion: String)
}

/// How a watch reconnects.
public struct WatchOptions: Sendable {
    /// The pause after the first failure in a row; doubled for each further one.
    public var initialBackoff: Duration
    /// The longest pause between attempts.
    public var maxBackoff: Duration
    /// How long the server keeps one watch request open (`timeoutSeconds`) before the client reconnects.
    public var requestDuration: Duration

    /// Options; the defaults suit a controller-like consumer.
    public init(
        initialBackoff: Duration = .milliseconds(200), maxBackoff: Duration = .seconds(10),
        requestDuration: Duration = .seconds(300)
    ) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.requestDuration = requestDuration
    }

    /// The pause before attempt number `failures + 1`, `failures` counting from 1.
    func backoff(afterFailures failures: Int) -> Duration {
        var pause = initialBackoff
        for _ in 1..<max(1, min(failures, 30)) where pause < maxBackoff {
            pause *= 2
        }
        return min(pause, maxBackoff)
    }
}
