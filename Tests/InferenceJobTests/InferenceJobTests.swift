import Foundation
import Inference
import Logging
import Testing

@testable import InferenceJob

/// The job over the real trained models and the real data directory.
@Suite struct InferenceJobTests {
    let quiet = Logger(label: "test", level: .error)

    func run(_ environment: [String: String]) throws -> JobSummary {
        try InferenceJob(configuration: try JobConfiguration(environment: environment), logger: quiet).run()
    }

    @Test(
        "scoring the whole evaluation split reproduces the accuracy training recorded",
        arguments: [("mnist", "ff", 10_000), ("kmnist", "cnn", 2_000)])
    func evaluationMatchesMetadata(dataset: String, type: String, samples: Int) throws {
        let metadata = try Model.load(
            metadataAt: Fixture.modelDirectory.appendingPathComponent("\(dataset)-\(type).json")
        )
        .metadata
        let summary = try run(Fixture.environment(dataset: dataset, type: type))
        #expect(summary.samples == samples)
        #expect(summary.correct == metadata.evaluation.correct)
        #expect(summary.accuracy == metadata.evaluation.accuracy)
        #expect(summary.mode == "evaluate")
    }

    @Test("MNIST test image 0, given inline, is classified as 7")
    func firstTestImageIsSeven() throws {
        let images = try LabeledImages.load(
            images: Fixture.dataDirectory.appendingPathComponent("mnist/t10k-images-idx3-ubyte.gz"),
            labels: Fixture.dataDirectory.appendingPathComponent("mnist/t10k-labels-idx1-ubyte.gz"), start: 0, count: 1)
        let rows = (0..<28).map { Array(images.pixels[$0 * 28..<($0 + 1) * 28]).map(Int.init) }
        let document = try JSONSerialization.data(withJSONObject: ["images": [rows]])
        var environment = Fixture.environment(dataset: "mnist", type: "ff")
        environment["INPUTS"] = String(decoding: document, as: UTF8.self)

        let summary = try run(environment)
        let prediction = try #require(summary.predictions?.first)
        #expect(images.labels == [7])
        #expect(prediction.label == 7)
        #expect(prediction.className == "7")
        #expect(prediction.probabilities.count == 10)
        #expect(prediction.probabilities[7] > 0.9)
    }

    @Test("a dataset and type with no model (mnist with cnn) is refused, listing the models there are")
    func wrongModelForDataset() {
        let error = #expect(throws: JobError.self) { try run(Fixture.environment(dataset: "mnist", type: "cnn")) }
        #expect(error?.exitCode == 2)
        #expect(error?.description.contains("no model for DATASET=mnist TYPE=cnn") == true)
        #expect(error?.description.contains("kmnist-cnn, mnist-ff") == true, "\(error?.description ?? "")")
    }

    @Test("weights that do not match their recorded sha256 are reported as corrupt")
    func corruptWeights() throws {
        try Fixture.withTemporaryDirectory { directory in
            try Fixture.copyModel("mnist-ff", to: directory)
            let weights = directory.appendingPathComponent("mnist-ff.safetensors")
            var bytes = try [UInt8](Data(contentsOf: weights))
            bytes[bytes.count / 2] ^= 0x55
            try Data(bytes).write(to: weights)

            var environment = Fixture.environment(dataset: "mnist", type: "ff")
            environment["MODEL_DIR"] = directory.path
            let error = #expect(throws: JobError.self) { try run(environment) }
            #expect(error?.exitCode == 3)
            #expect(error?.description.contains("mnist-ff.safetensors is corrupt: its sha256 is") == true)
        }
    }

    @Test("metadata that describes another model than its file name says is refused")
    func mislabeledMetadata() throws {
        try Fixture.withTemporaryDirectory { directory in
            try Fixture.copyModel("mnist-ff", to: directory)
            try FileManager.default.moveItem(
                at: directory.appendingPathComponent("mnist-ff.json"),
                to: directory.appendingPathComponent("kmnist-cnn.json"))
            var environment = Fixture.environment(dataset: "kmnist", type: "cnn")
            environment["MODEL_DIR"] = directory.path
            let error = #expect(throws: JobError.self) { try run(environment) }
            #expect(
                error?.description.contains("describes a ff model for mnist, not TYPE=cnn for DATASET=kmnist") == true)
        }
    }

    @Test("a data directory without the dataset names the missing file")
    func missingData() throws {
        try Fixture.withTemporaryDirectory { directory in
            var environment = Fixture.environment(dataset: "mnist", type: "ff")
            environment["DATA_DIR"] = directory.path
            let error = #expect(throws: JobError.self) { try run(environment) }
            #expect(error?.exitCode == 3)
            #expect(error?.description.contains("dataset images not found") == true)
            #expect(error?.description.contains("mnist/t10k-images-idx3-ubyte.gz") == true)
        }
    }

    @Test("a truncated dataset file is reported as unreadable, not a crash")
    func truncatedData() throws {
        try Fixture.withTemporaryDirectory { directory in
            let mnist = directory.appendingPathComponent("mnist")
            try FileManager.default.createDirectory(at: mnist, withIntermediateDirectories: true)
            let source = Fixture.dataDirectory.appendingPathComponent("mnist/t10k-images-idx3-ubyte.gz")
            let bytes = try Data(contentsOf: source)
            try bytes.prefix(bytes.count / 2).write(to: mnist.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
            try FileManager.default.copyItem(
                at: Fixture.dataDirectory.appendingPathComponent("mnist/t10k-labels-idx1-ubyte.gz"),
                to: mnist.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
            var environment = Fixture.environment(dataset: "mnist", type: "ff")
            environment["DATA_DIR"] = directory.path
            let error = #expect(throws: JobError.self) { try run(environment) }
            #expect(error?.exitCode == 3)
            #expect(error?.description.contains("is not a readable gzip file") == true, "\(error?.description ?? "")")
        }
    }

    @Test("bad inline input gives exit status 4 and says which image is wrong")
    func badInlineInput() {
        var environment = Fixture.environment(dataset: "kmnist", type: "cnn")
        environment["INPUTS"] = "{\"images\": [[1, 2, 3]]}"
        let error = #expect(throws: JobError.self) { try run(environment) }
        #expect(error?.exitCode == 4)
        #expect(error?.description.contains("image 0: the image has 3 pixels; expected 28x28") == true)
    }
    /// Copies `name` into `directory` after `edit` changes its metadata JSON text, and runs the job on it.
    func runEdited(_ name: String, dataset: String, type: String, _ edit: (String) -> String) throws -> JobError? {
        try Fixture.withTemporaryDirectory { directory in
            try Fixture.copyModel(name, to: directory)
            let metadata = directory.appendingPathComponent("\(name).json")
            try edit(try String(contentsOf: metadata, encoding: .utf8)).write(
                to: metadata, atomically: true, encoding: .utf8)
            var environment = Fixture.environment(dataset: dataset, type: type)
            environment["MODEL_DIR"] = directory.path
            return #expect(throws: JobError.self) { try run(environment) }
        }
    }

    @Test(
        "metadata with absurd numbers is refused with a message, never an arithmetic trap",
        arguments: [
            ("\"padding\": 1", "\"padding\": 1000000000", "padding 1000000000"),
            ("\"height\": 28", "\"height\": 1099511627776", "at most 16 channels of 1024x1024"),
            ("\"std\": ", "\"std\": 0, \"unused\": ", "std must be positive"),
            ("\"start\": 8000", "\"start\": 9000", "2000 images from index 9000 were asked for"),
            ("\"count\": 2000", "\"count\": 9223372036854775807", "images from index 8000 were asked for"),
        ])
    func absurdMetadata(original: String, replacement: String, expected: String) throws {
        let error = try runEdited("kmnist-cnn", dataset: "kmnist", type: "cnn") { text in
            guard let range = text.range(of: original) else { return "not found: \(original)" }
            return text.replacingCharacters(in: range, with: replacement)
        }
        #expect(error?.description.contains(expected) == true, "\(error?.description ?? "no error")")
        #expect(error?.exitCode == 3)
    }

    @Test("weights whose header claims offsets or shapes beyond the file are corrupt, not a crash")
    func absurdWeights() throws {
        for header in [
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[9223372036854775807,9223372036854775807]}}",
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,16]}}",
            "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,16]}}",
        ] {
            var length = UInt64(header.utf8.count).littleEndian
            let file =
                withUnsafeBytes(of: &length) { Array($0) } + Array(header.utf8) + [UInt8](repeating: 0, count: 16)
            let error = #expect(throws: InferenceError.self) { try SafeTensors.parse(file, source: "w.safetensors") }
            #expect(error?.kind == .corrupt)
        }
    }

    @Test("a labels file with a label beyond the model's classes is refused")
    func labelOutOfRange() throws {
        try Fixture.withTemporaryDirectory { directory in
            let mnist = directory.appendingPathComponent("mnist")
            try FileManager.default.createDirectory(at: mnist, withIntermediateDirectories: true)
            try FileManager.default.copyItem(
                at: Fixture.dataDirectory.appendingPathComponent("mnist/t10k-images-idx3-ubyte.gz"),
                to: mnist.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
            var labels: [UInt8] = [0, 0, 8, 1, 0, 0, 0x27, 0x10] + [UInt8](repeating: 3, count: 10_000)
            labels[8 + 5] = 12
            try Data(labels).write(to: mnist.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
            var environment = Fixture.environment(dataset: "mnist", type: "ff")
            environment["DATA_DIR"] = directory.path
            let error = #expect(throws: JobError.self) { try run(environment) }
            #expect(error?.description.contains("has label 12 for image 5; mnist-ff has 10 classes") == true)
        }
    }

    @Test("MODEL_DIR that is a file, and an INPUTS_FILE over the size limit, are named as such")
    func directoriesAndLimits() throws {
        try Fixture.withTemporaryDirectory { directory in
            let file = directory.appendingPathComponent("plain")
            try Data("x".utf8).write(to: file)
            var environment = Fixture.environment(dataset: "mnist", type: "ff")
            environment["MODEL_DIR"] = file.path
            let notDirectory = #expect(throws: JobError.self) { try run(environment) }
            #expect(notDirectory?.description == "MODEL_DIR=\(file.path) is a file; expected a directory")

            let large = directory.appendingPathComponent("large.json")
            try Data(count: JobConfiguration.maximumInputBytes + 1).write(to: large)
            environment = Fixture.environment(dataset: "mnist", type: "ff")
            environment["INPUTS_FILE"] = large.path
            let tooLarge = #expect(throws: JobError.self) { try JobConfiguration(environment: environment) }
            #expect(
                tooLarge?.description.contains("is larger than \(JobConfiguration.maximumInputBytes) bytes") == true)
            #expect(tooLarge?.exitCode == 4)
        }
    }
}

/// The built `job` executable, as a Kubernetes Job runs it.
@Suite struct JobProcessTests {
    @Test("arguments are refused with the usage; --help prints it and exits 0")
    func arguments() throws {
        let help = try ProcessResult.run(Fixture.jobBinary, arguments: ["--help"], environment: [:])
        #expect(help.status == 0)
        #expect(help.standardOutput.hasPrefix("usage: DATASET="))
        let extra = try ProcessResult.run(Fixture.jobBinary, arguments: ["--dataset", "mnist"], environment: [:])
        #expect(extra.status == 2)
        #expect(extra.standardError.hasPrefix("job: error: unexpected arguments --dataset mnist"))
    }

    @Test("a summary that cannot be written (a full disk) is a clean non-zero exit, not a crash")
    func fullOutput() throws {
        let process = Process()
        process.executableURL = Fixture.jobBinary
        process.environment = Fixture.environment(dataset: "kmnist", type: "cnn")
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/full")
        let error = Pipe()
        process.standardError = error
        try process.run()
        let message = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 1)
        #expect(message == "job: error: the summary could not be written to standard output\n")
    }

    @Test("a good run exits 0 and ends its output with the one-line JSON summary")
    func summaryLine() throws {
        let result = try ProcessResult.run(
            Fixture.jobBinary, environment: Fixture.environment(dataset: "kmnist", type: "cnn"))
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.isEmpty)
        let lines = result.standardOutput.split(separator: "\n")
        #expect(lines.count >= 3, "a progress line, a result line and the summary")
        let summary = try JSONDecoder().decode(JobSummary.self, from: Data(try #require(lines.last).utf8))
        #expect(summary.dataset == "kmnist" && summary.model == "kmnist-cnn" && summary.samples == 2000)
        #expect(summary.durationMs > 0)
        #expect(lines.dropLast().allSatisfy { $0.contains(" info job: ") })
    }

    @Test(
        "a bad configuration exits non-zero with exactly one line on standard error",
        arguments: [
            (["DATASET": "cifar", "TYPE": "ff"], Int32(2), "DATASET=\"cifar\" is not supported"),
            (
                ["DATASET": "mnist", "TYPE": "ff", "MODEL_DIR": "/nonexistent"], Int32(2),
                "MODEL_DIR=/nonexistent does not exist"
            ),
            (["DATASET": "mnist", "TYPE": "ff", "INPUTS": "[]"], Int32(4), "expected a JSON object"),
        ] as [([String: String], Int32, String)])
    func failsWithOneLine(environment: [String: String], status: Int32, message: String) throws {
        var full = Fixture.environment(dataset: "mnist", type: "ff")
        full.merge(environment) { $1 }
        let result = try ProcessResult.run(Fixture.jobBinary, environment: full)
        #expect(result.status == status)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("job: error: ") == true)
        #expect(result.standardError.contains(message), "\(result.standardError)")
    }
}
