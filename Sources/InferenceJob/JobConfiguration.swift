import Foundation

/// How a job is configured: by environment variables, as a Kubernetes Job's container spec sets them.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `DATASET` | `mnist` or `kmnist` | required |
/// | `TYPE` | `ff` or `cnn` | required |
/// | `MODEL_DIR` | directory holding `<dataset>-<type>.json` and its weights | `/models` |
/// | `DATA_DIR` | directory holding `mnist/` and `kmnist/` | `/data` |
/// | `INPUTS` | inline images as JSON, `{"images": [...]}`; classify these instead of the evaluation split | unset |
/// | `INPUTS_FILE` | a file holding that JSON | unset |
/// | `LOG_LEVEL` | `debug`, `info`, `warning` or `error` | `info` |
///
/// A variable set to the empty string counts as unset, as Kubernetes' own `env` entries do.
public struct JobConfiguration: Sendable, Equatable {
    /// What the job classifies.
    public enum Work: Sendable, Equatable {
        /// Every image of the model's evaluation split, scored against its labels.
        case evaluate
        /// Images given with the request, as the JSON document `{"images": [...]}`.
        case predict(Data)
    }

    /// The datasets a model can be trained for.
    public static let datasets = ["mnist", "kmnist"]
    /// The kinds of network.
    public static let types = ["ff", "cnn"]

    /// `mnist` or `kmnist`.
    public let dataset: String
    /// `ff` or `cnn`.
    public let type: String
    /// Where the model files are.
    public let modelDirectory: URL
    /// Where the datasets are.
    public let dataDirectory: URL
    /// What to classify.
    public let work: Work
    /// The name of the lowest log level to print.
    public let logLevel: String

    /// The largest inline-images document read: 64 images, as PNGs or pixel arrays, fit many times over.
    public static let maximumInputBytes = 4 << 20

    /// The model's metadata file.
    public var metadataURL: URL { modelDirectory.appendingPathComponent("\(dataset)-\(type).json") }

    /// Creates a configuration directly.
    public init(
        dataset: String, type: String, modelDirectory: URL, dataDirectory: URL, work: Work = .evaluate,
        logLevel: String = "info"
    ) {
        self.dataset = dataset
        self.type = type
        self.modelDirectory = modelDirectory
        self.dataDirectory = dataDirectory
        self.work = work
        self.logLevel = logLevel
    }

    /// Reads the configuration from environment variables.
    ///
    /// - Throws: `JobError.configuration` naming the variable, its value and what was expected.
    public init(environment: [String: String]) throws(JobError) {
        let environment = environment.filter { !$0.value.isEmpty }
        func required(_ name: String, oneOf allowed: [String]) throws(JobError) -> String {
            let choices = allowed.joined(separator: " or ")
            guard let value = environment[name] else {
                throw JobError.configuration("\(name) is not set; expected \(choices)")
            }
            guard allowed.contains(value) else {
                throw JobError.configuration("\(name)=\"\(value)\" is not supported; expected \(choices)")
            }
            return value
        }

        let dataset = try required("DATASET", oneOf: Self.datasets)
        let type = try required("TYPE", oneOf: Self.types)
        let logLevel = environment["LOG_LEVEL"] ?? "info"
        guard ["debug", "info", "warning", "error"].contains(logLevel) else {
            throw JobError.configuration(
                "LOG_LEVEL=\"\(logLevel)\" is not a level; expected debug, info, warning or error")
        }

        let work: Work
        switch (environment["INPUTS"], environment["INPUTS_FILE"]) {
        case (let inline?, nil):
            work = .predict(Data(inline.utf8))
        case (nil, let path?):
            work = .predict(try Self.readInputs(path))
        case (nil, nil):
            work = .evaluate
        case (.some, .some):
            throw JobError.configuration("both INPUTS and INPUTS_FILE are set; give the images one way")
        }

        self.init(
            dataset: dataset, type: type,
            modelDirectory: URL(fileURLWithPath: environment["MODEL_DIR"] ?? "/models", isDirectory: true),
            dataDirectory: URL(fileURLWithPath: environment["DATA_DIR"] ?? "/data", isDirectory: true),
            work: work, logLevel: logLevel)
    }

    private static func readInputs(_ path: String) throws(JobError) -> Data {
        let expected = "expected a JSON file {\"images\": [...]}"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
            let handle = FileHandle(forReadingAtPath: path)
        else {
            let problem = isDirectory.boolValue ? "is a directory" : "cannot be read"
            throw JobError.configuration("INPUTS_FILE=\(path) \(problem); \(expected)")
        }
        defer { try? handle.close() }
        // One byte past the limit tells a file at the limit from a larger one without reading all of it.
        let contents = (try? handle.read(upToCount: maximumInputBytes + 1)) ?? Data()
        guard contents.count <= maximumInputBytes else {
            throw JobError.input(
                "INPUTS_FILE=\(path) is larger than \(maximumInputBytes) bytes; send at most 64 images")
        }
        return contents
    }
}
