import Inference

/// Why a job could not do its work. Each case's message names what is wrong and what was expected.
public enum JobError: Error, Equatable, CustomStringConvertible {
    /// An environment variable is missing or has a value the job does not accept.
    case configuration(String)
    /// The model or dataset files are missing, corrupt, or do not fit each other.
    case files(String)
    /// Inline input images cannot be classified.
    case input(String)

    /// The process exit status for this error: 2 for configuration, 3 for files, 4 for input.
    public var exitCode: Int32 {
        switch self {
        case .configuration: 2
        case .files: 3
        case .input: 4
        }
    }

    /// The message.
    public var description: String {
        switch self {
        case .configuration(let message), .files(let message), .input(let message): message
        }
    }
}
