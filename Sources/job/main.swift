import Foundation
import InferenceJob
import Logging

// The container entrypoint of every tier's Kubernetes Job. Configured by environment (see
// `JobConfiguration`); logs go to standard output with the summary as the last line, and a failure is one
// line on standard error with a non-zero exit status.

func fail(_ error: JobError) -> Never {
    FileHandle.standardError.write(Data("job: error: \(error.description)\n".utf8))
    exit(error.exitCode)
}

do {
    let configuration = try JobConfiguration(environment: ProcessInfo.processInfo.environment)
    let level = LogLevel(name: configuration.logLevel) ?? .info
    let logger = Logger(label: "job", level: level, fileDescriptor: STDOUT_FILENO)
        .with("dataset", configuration.dataset).with("type", configuration.type)
    let summary = try InferenceJob(configuration: configuration, logger: logger).run()
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let line = try encoder.encode(summary)
    FileHandle.standardOutput.write(line + Data("\n".utf8))
} catch let error as JobError {
    fail(error)
} catch {
    fail(.files("the summary could not be encoded: \(error)"))
}
