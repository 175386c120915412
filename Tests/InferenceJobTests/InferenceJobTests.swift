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

    @Test("a model that does not fit the dataset is refused, listing the models there are")
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
}

/// The built `job` executable, as a Kubernetes Job runs it.
@Suite struct JobProcessTests {
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
            (["DATASET": "cifar", "TYPE": "ff"], Int32(2), "DATASET=cifar is not supported"),
            (["DATASET": "mnist", "TYPE": "ff", "MODEL_DIR": "/nonexistent"], Int32(2), "no model for DATASET=mnist"),
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
