import Foundation

/// How one check ended.
public enum CheckOutcome: String, Codable, Sendable {
    /// The deployment did what the check asks.
    case pass
    /// The deployment answered, wrongly.
    case fail
    /// The check's deadline passed before the deployment showed the expected state.
    case timeout
    /// The check could not run (a prerequisite check failed, or an option it needs was not given).
    case skipped
}

/// One check's result, as the table, `--json` and `--junit` report it.
public struct CheckResult: Codable, Sendable {
    /// A short stable identifier, such as `free-job`.
    public let id: String
    /// What the check verifies, in words.
    public let title: String
    /// How it ended.
    public let outcome: CheckOutcome
    /// How long it took.
    public let seconds: Double
    /// What was seen: on success a summary, on failure the last state and, for jobs, their logs.
    public let detail: String
}
