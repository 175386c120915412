import Foundation
import Testing

@testable import Inference

/// The committed models against what PyTorch computed when it exported them.
@Suite struct TrainedModelTests {
    struct Golden: Decodable {
        let model: String
        let start: Int
        let count: Int
        let labels: [Int]
        let logits: [[Float]]
    }

    @Test("Swift logits equal PyTorch's golden logits within 1e-4", arguments: ["mnist-ff", "kmnist-cnn"])
    func goldenLogits(name: String) throws {
        let model = try Model.load(metadataAt: Artifacts.metadataURL(name))
        let golden = try JSONDecoder().decode(
            Golden.self, from: Data(contentsOf: Artifacts.modelDirectory.appendingPathComponent("\(name).golden.json")))
        let split = model.metadata.evaluation
        #expect(golden.model == name)
        #expect(golden.start == split.start)
        #expect(golden.count == 100 && golden.logits.count == 100)

        let images = try LabeledImages.load(
            images: Artifacts.dataDirectory.appendingPathComponent(split.images),
            labels: Artifacts.dataDirectory.appendingPathComponent(split.labels), start: golden.start,
            count: golden.count)
        #expect(images.labels == golden.labels)
        let logits = model.logits(for: images.pixels)
        var largest: Float = 0
        for index in 0..<golden.count {
            let expected = golden.logits[index]
            let actual = Array(logits.row(index))
            #expect(actual.count == expected.count)
            largest = max(largest, zip(actual, expected).map { abs($0 - $1) }.max() ?? .infinity)
        }
        #expect(largest <= 1e-4, "largest difference \(largest)")
    }

    @Test("metadata records its data splits, and KMNIST's held-out images were never trained on")
    func splitsAreStated() throws {
        let mnist = try Model.load(metadataAt: Artifacts.metadataURL("mnist-ff")).metadata
        #expect(mnist.training.count == 60_000 && mnist.evaluation.count == 10_000)
        #expect((mnist.evaluation.accuracy ?? 0) >= 0.98)

        let kmnist = try Model.load(metadataAt: Artifacts.metadataURL("kmnist-cnn")).metadata
        #expect(kmnist.training.images == kmnist.evaluation.images)
        #expect(kmnist.training.start == 0 && kmnist.training.count == 8_000)
        #expect(kmnist.evaluation.start == 8_000 && kmnist.evaluation.count == 2_000)
        #expect((kmnist.evaluation.accuracy ?? 0) >= 0.97)
    }
}
