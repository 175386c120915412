import Foundation
import InferenceJob
import Logging

#if canImport(Glibc)
    import Glibc
#endif

// The container entrypoint of every tier's Kubernetes Job. Configured by environment (see
// `JobConfiguration`); logs go to standard output with the summary as the last line, and a failure is one
// line on standard error with a non-zero exit status.

let usage = """
    usage: DATASET=mnist|kmnist TYPE=ff|cnn [MODEL_DIR=DIR] [DATA_DIR=DIR] [INPUTS=JSON | INPUTS_FILE=FILE] job

    Scores the model's evaluation split, or classifies the images in INPUTS / INPUTS_FILE, and prints a one-line
    JSON summary last. Configuration is by environment only; the job takes no arguments.

    """

/// Writes all of `text` to `descriptor`; false when the stream is closed or full.
func write(_ text: String, to descriptor: Int32) -> Bool {
    Array(text.utf8).withUnsafeBytes { buffer in
        guard var cursor = buffer.baseAddress else { return true }
        var remaining = buffer.count
        while remaining > 0 {
            let written = Glibc.write(descriptor, cursor, remaining)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            cursor += written
            remaining -= written
        }
        return true
    }
}

func fail(_ error: JobError) -> Never {
    _ = write("job: error: \(error.description)\n", to: STDERR_FILENO)
    exit(error.exitCode)
}

// A reader that goes away must not kill the job with SIGPIPE; the failed write is reported instead.
signal(SIGPIPE, SIG_IGN)

let arguments = CommandLine.arguments.dropFirst()
if arguments == ["--help"] || arguments == ["-h"] {
    _ = write(usage, to: STDOUT_FILENO)
    exit(0)
}
guard arguments.isEmpty else {
    _ = write("job: error: unexpected arguments \(arguments.joined(separator: " ")); \(usage)", to: STDERR_FILENO)
    exit(2)
}

do {
    let configuration = try JobConfiguration(environment: ProcessInfo.processInfo.environment)
    let level = LogLevel(name: configuration.logLevel) ?? .info
    let logger = Logger(label: "job", level: level, fileDescriptor: STDOUT_FILENO)
        .with("dataset", configuration.dataset).with("type", configuration.type)
    let summary = try InferenceJob(configuration: configuration, logger: logger).run()
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let line = String(decoding: try encoder.encode(summary), as: UTF8.self)
    guard write(line + "\n", to: STDOUT_FILENO) else {
        _ = write("job: error: the summary could not be written to standard output\n", to: STDERR_FILENO)
        exit(1)
    }
} catch let error as JobError {
    fail(error)
} catch {
    fail(.files("the summary could not be encoded: \(error)"))
}
