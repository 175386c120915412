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
