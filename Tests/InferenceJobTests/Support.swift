import Foundation
import Testing

/// Paths to the package's models, data and built binaries, and a scratch directory per test.
enum Fixture {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelDirectory = packageRoot.appendingPathComponent("Models")
    static let dataDirectory =
        ProcessInfo.processInfo.environment["TIERSERVE_DATA_DIR"].map {
            URL(fileURLWithPath: $0)
        } ?? packageRoot.appendingPathComponent("data")

    /// The `job` executable built beside the test bundle.
    static var jobBinary: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for directory in [
            besideTests, besideTests.deletingLastPathComponent(), packageRoot.appendingPathComponent(".build/debug"),
        ] {
            let candidate = directory.appendingPathComponent("job")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return packageRoot.appendingPathComponent(".build/debug/job")
    }

    /// Environment for a job over the real models and data.
    static func environment(dataset: String, type: String) -> [String: String] {
        ["DATASET": dataset, "TYPE": type, "MODEL_DIR": modelDirectory.path, "DATA_DIR": dataDirectory.path]
    }

    /// A fresh directory, removed when `body` returns.
    static func withTemporaryDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tierserve-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try body(directory)
    }

    /// Copies one model's metadata and weights into `directory`.
    static func copyModel(_ name: String, to directory: URL) throws {
        for file in ["\(name).json", "\(name).safetensors"] {
            try FileManager.default.copyItem(
                at: modelDirectory.appendingPathComponent(file), to: directory.appendingPathComponent(file))
        }
    }
}

/// What a finished process printed and how it exited.
struct ProcessResult {
    let status: Int32
    let standardOutput: String
    let standardError: String

    /// Runs `executable` with exactly `environment`, waiting for it to exit.
    static func run(_ executable: URL, arguments: [String] = [], environment: [String: String]) throws -> ProcessResult
    {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Read both pipes to the end before waiting, so a full pipe cannot stall the child.
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProcessResult(
            status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
            standardError: String(decoding: errorData, as: UTF8.self))
    }
}
