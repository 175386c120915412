import Foundation
import Testing

@testable import InferenceJob

@Suite struct JobConfigurationTests {
    @Test("defaults suit the container image: models in /models, data in /data, evaluation mode")
    func defaults() throws {
        let configuration = try JobConfiguration(environment: ["DATASET": "kmnist", "TYPE": "cnn"])
        #expect(configuration.modelDirectory.path == "/models")
        #expect(configuration.dataDirectory.path == "/data")
        #expect(configuration.work == .evaluate)
        #expect(configuration.metadataURL.path == "/models/kmnist-cnn.json")
    }

    @Test("empty variables count as unset, as in a Kubernetes env list")
    func emptyIsUnset() throws {
        let configuration = try JobConfiguration(
            environment: ["DATASET": "mnist", "TYPE": "ff", "INPUTS": "", "MODEL_DIR": "", "LOG_LEVEL": ""])
        #expect(configuration.work == .evaluate)
        #expect(configuration.modelDirectory.path == "/models")
        #expect(configuration.logLevel == "info")
    }

    @Test(
        "bad settings name the variable, its value and what was expected",
        arguments: [
            ([:], "DATASET is not set; expected mnist or kmnist"),
            (["DATASET": "cifar", "TYPE": "ff"], "DATASET=\"cifar\" is not supported; expected mnist or kmnist"),
            (["DATASET": "mnist"], "TYPE is not set; expected ff or cnn"),
            (["DATASET": "mnist", "TYPE": "rnn"], "TYPE=\"rnn\" is not supported; expected ff or cnn"),
            (["DATASET": "mnist", "TYPE": "ff", "LOG_LEVEL": "loud"], "LOG_LEVEL=\"loud\" is not a level"),
            (["DATASET": "mnist", "TYPE": "ff", "INPUTS": "{}", "INPUTS_FILE": "/x"], "both INPUTS and INPUTS_FILE"),
            (
                ["DATASET": "mnist", "TYPE": "ff", "INPUTS_FILE": "/nonexistent/in.json"],
                "INPUTS_FILE=/nonexistent/in.json cannot be read"
            ),
        ] as [([String: String], String)])
    func refusesBadSettings(environment: [String: String], expected: String) {
        let error = #expect(throws: JobError.self) { try JobConfiguration(environment: environment) }
        #expect(error?.description.contains(expected) == true, "\(error?.description ?? "no error")")
        #expect(error?.exitCode == 2)
    }
}
