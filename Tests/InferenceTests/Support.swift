import Foundation

@testable import Inference

/// Where the trained models and the data directory are, for tests that use the real artifacts.
enum Artifacts {
    /// The package root, found from this file's path.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Models/` in the package.
    static let modelDirectory = packageRoot.appendingPathComponent("Models")

    /// `TIERSERVE_DATA_DIR`, or `data/` in the package (filled by `make data`).
    static let dataDirectory =
        ProcessInfo.processInfo.environment["TIERSERVE_DATA_DIR"].map {
            URL(fileURLWithPath: $0)
        } ?? packageRoot.appendingPathComponent("data")

    static func metadataURL(_ name: String) -> URL {
        modelDirectory.appendingPathComponent("\(name).json")
    }
}

/// A small model built in memory, so layer arithmetic can be checked against a direct computation.
enum Synthetic {
    static func metadata(
        layers: [ModelMetadata.LayerSpec], channels: Int = 1, height: Int = 4, width: Int = 4, classes: Int = 3
    ) -> ModelMetadata {
        let split = ModelMetadata.DataSplit(images: "i", labels: "l", start: 0, count: 1, accuracy: nil, correct: nil)
        return ModelMetadata(
            format: ModelMetadata.supportedFormat, name: "synthetic", dataset: "mnist", type: "ff",
            architecture: "test", weights: "synthetic.safetensors", weightsSha256: "",
            input: .init(channels: channels, height: height, width: width, scale: 1, mean: 0, std: 1),
            classes: (0..<classes).map(String.init), layers: layers, training: split, evaluation: split)
    }

    static func layer(
        _ op: String, weight: String? = nil, bias: String? = nil, stride: Int? = nil, padding: Int? = nil,
        kernel: Int? = nil
    ) -> ModelMetadata.LayerSpec {
        ModelMetadata.LayerSpec(op: op, weight: weight, bias: bias, stride: stride, padding: padding, kernel: kernel)
    }

    /// Deterministic values in [-1, 1), different for each `seed`.
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
        }
    }

    /// Builds a safetensors file from named tensors.
    static func safetensors(_ tensors: [(String, [Int], [Float])], dtype: String = "F32") -> [UInt8] {
        var header: [String: Any] = ["__metadata__": ["note": "test"]]
        var offset = 0
        var data: [UInt8] = []
        for (name, shape, values) in tensors {
            let bytes = values.withUnsafeBytes { Array($0) }
            header[name] = ["dtype": dtype, "shape": shape, "data_offsets": [offset, offset + bytes.count]]
            data += bytes
            offset += bytes.count
        }
        let json = (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data()
        var length = UInt64(json.count).littleEndian
        return withUnsafeBytes(of: &length) { Array($0) } + [UInt8](json) + data
    }
}
