import COpenBLAS
import Digests
import Dispatch
import Foundation

/// A trained network ready to classify images: its metadata, its layers with their weights, and the
/// normalization it was trained with.
public struct Model: Sendable {
    /// What the model is, as training described it.
    public let metadata: ModelMetadata
    private let layers: [Layer]
    /// How many images go through the layers at once: as many as keep one batch's largest layer (its
    /// input, output and im2col matrix) within `workingSetFloats`, so each worker stays in cache.
    public let batchSize: Int

    /// The most floats one image may need in one layer (256 MiB), far beyond the models here, so that a
    /// corrupt file cannot ask for absurd allocations.
    static let largestLayerFloats = 1 << 26

    /// The floats one batch's largest layer may touch: 4 MiB.
    static let workingSetFloats = 1 << 20

    /// Loads the model described by the metadata file at `metadataURL` and the weights file beside it.
    ///
    /// The weights' SHA-256 must match the metadata, every tensor a layer names must exist with the shape
    /// the layer needs, and the layers must chain from the input geometry to one logit per class.
    ///
    /// - Throws: `InferenceError` naming the file and what is wrong with it.
    public static func load(metadataAt metadataURL: URL) throws(InferenceError) -> Model {
        let metadataBytes = try readFile(metadataURL, what: "model metadata")
        let metadata: ModelMetadata
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            metadata = try decoder.decode(ModelMetadata.self, from: Data(metadataBytes))
        } catch {
            throw InferenceError(.corrupt, "\(metadataURL.path) is not model metadata: \(Self.describe(error))")
        }
        guard metadata.format == ModelMetadata.supportedFormat else {
            throw InferenceError(
                .unsupported,
                "\(metadataURL.path) has format \"\(metadata.format)\"; expected \"\(ModelMetadata.supportedFormat)\"")
        }

        let weightsURL = metadataURL.deletingLastPathComponent().appendingPathComponent(metadata.weights)
        let weightBytes = try readFile(weightsURL, what: "model weights")
        let digest = SHA256.hexDigest(weightBytes)
        guard digest == metadata.weightsSha256.lowercased() else {
            throw InferenceError(
                .corrupt,
                "\(weightsURL.path) is corrupt: its sha256 is \(digest) but \(metadataURL.lastPathComponent) "
                    + "expects \(metadata.weightsSha256)")
        }
        let tensors = try SafeTensors.parse(weightBytes, source: weightsURL.path)
        return try Model(metadata: metadata, tensors: tensors, source: weightsURL.lastPathComponent)
    }

    /// Builds a model from metadata and already-parsed tensors, checking that they fit together.
    ///
    /// - Parameter source: names the weights in error messages.
    public init(metadata: ModelMetadata, tensors: [String: Tensor], source: String) throws(InferenceError) {
        let input = metadata.input
        guard (1...16).contains(input.channels), (1...1024).contains(input.height), (1...1024).contains(input.width)
        else {
            throw InferenceError(
                .unsupported,
                "\(source): input of \(input.channels)x\(input.height)x\(input.width); at most 16 channels of 1024x1024 are read"
            )
        }
        guard input.scale.isFinite, input.scale > 0, input.std.isFinite, input.std > 0, input.mean.isFinite else {
            throw InferenceError(
                .corrupt,
                "\(source): input normalization has scale \(input.scale), mean \(input.mean), std \(input.std); "
                    + "scale and std must be positive and all three finite")
        }
        var layers: [Layer] = []
        for (index, spec) in metadata.layers.enumerated() {
            layers.append(try Self.layer(from: spec, at: index, tensors: tensors, source: source))
        }

        var shape = [input.channels, input.height, input.width]
        var largestLayer = 1
        for (index, layer) in layers.enumerated() {
            do {
                let next = try layer.outputShape(for: shape)
                largestLayer = max(largestLayer, layer.floatsPerImage(input: shape, output: next))
                shape = next
            } catch {
                throw InferenceError(
                    error.kind, "\(source): layer \(index) (\(metadata.layers[index].op)): \(error.message)")
            }
        }
        guard shape == [metadata.classes.count] else {
            throw InferenceError(
                .shapeMismatch,
                "\(source): the layers produce shape \(shape) per image but the model has \(metadata.classes.count) classes"
            )
        }
        guard largestLayer <= Self.largestLayerFloats else {
            throw InferenceError(
                .unsupported,
                "\(source): a layer needs \(largestLayer) floats per image; at most \(Self.largestLayerFloats) are supported"
            )
        }
        self.metadata = metadata
        self.layers = layers
        self.batchSize = min(1024, max(8, Self.workingSetFloats / largestLayer))
    }

    /// The number of pixels in one input image.
    public var pixelsPerImage: Int { metadata.input.channels * metadata.input.height * metadata.input.width }

    /// The raw outputs (one row of `classes.count` logits per image) for `images`.
    ///
    /// Batches are spread over one worker per processor, each running OpenBLAS single-threaded: for
    /// matrices this size that is faster than letting OpenBLAS wake its threads for every product. This
    /// sets OpenBLAS's process-wide thread count to 1.
    ///
    /// - Parameter images: `count · pixelsPerImage` raw pixels, 0-255, image after image.
    public func logits(for images: [UInt8]) -> Tensor {
        precondition(images.count % pixelsPerImage == 0, "images must hold whole images of \(pixelsPerImage) pixels")
        let count = images.count / pixelsPerImage
        let classes = metadata.classes.count
        let batches = (count + batchSize - 1) / batchSize
        let workers = max(1, min(batches, ProcessInfo.processInfo.activeProcessorCount))
        openblas_set_num_threads(1)

        let logits = [Float](unsafeUninitializedCapacity: count * classes) { buffer, initialized in
            // Each batch writes only its own rows, so the workers never touch the same memory.
            let output = SendableBuffer(base: buffer.baseAddress)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for batch in stride(from: worker, to: batches, by: workers) {
                    let start = batch * batchSize
                    let end = min(start + batchSize, count)
                    var activations = normalized(
                        images[start * pixelsPerImage..<end * pixelsPerImage], count: end - start)
                    for layer in layers {
                        layer.apply(to: &activations)
                    }
                    activations.values.withUnsafeBufferPointer { rows in
                        guard let source = rows.baseAddress, let base = output.base else { return }
                        (base + start * classes).initialize(from: source, count: rows.count)
                    }
                }
            }
            initialized = count * classes
        }
        return Tensor(shape: [count, classes], values: logits)
    }

    /// Classifies `images`, giving each one's label and its class probabilities.
    public func classify(_ images: [UInt8]) -> [Prediction] {
        let logits = logits(for: images)
        return (0..<logits.batchSize).map { index in
            Prediction(logits: Array(logits.row(index)), classes: metadata.classes)
        }
    }

    /// Pixels to model inputs, `(p / scale - mean) / std` in float32 with training's order of operations.
    /// A pixel has only 256 values, so each is computed once into a table.
    private func normalized(_ pixels: ArraySlice<UInt8>, count: Int) -> Tensor {
        let input = metadata.input
        let table = (0...255).map { (Float($0) / input.scale - input.mean) / input.std }
        let values = [Float](unsafeUninitializedCapacity: pixels.count) { buffer, initialized in
            pixels.withUnsafeBufferPointer { source in
                guard let from = source.baseAddress, let to = buffer.baseAddress else { return }
                table.withUnsafeBufferPointer { lookup in
                    guard let levels = lookup.baseAddress else { return }
                    for index in 0..<source.count {
                        to[index] = levels[Int(from[index])]
                    }
                }
            }
            initialized = pixels.count
        }
        return Tensor(shape: [count, input.channels, input.height, input.width], values: values)
    }

    private static func layer(
        from spec: ModelMetadata.LayerSpec, at index: Int, tensors: [String: Tensor], source: String
    ) throws(InferenceError) -> Layer {
        func tensor(_ name: String?, _ role: String) throws(InferenceError) -> Tensor {
            guard let name else {
                throw InferenceError(.corrupt, "\(source): layer \(index) (\(spec.op)) names no \(role) tensor")
            }
            guard let tensor = tensors[name] else {
                let known = tensors.keys.sorted().joined(separator: ", ")
                throw InferenceError(
                    .corrupt, "\(source): layer \(index) needs tensor \"\(name)\", which is missing (found: \(known))")
            }
            return tensor
        }

        switch spec.op {
        case "flatten":
            return .flatten
        case "relu":
            return .relu
        case "linear":
            let weight = try tensor(spec.weight, "weight")
            let bias = try tensor(spec.bias, "bias")
            guard weight.shape.count == 2, bias.shape == [weight.shape[0]] else {
                throw InferenceError(
                    .shapeMismatch,
                    "\(source): linear layer \(index) has weight \(weight.shape) and bias \(bias.shape); "
                        + "expected [outputs, inputs] and [outputs]")
            }
            return .linear(weight: weight.values, bias: bias.values, inputs: weight.shape[1], outputs: weight.shape[0])
        case "conv2d":
            let weight = try tensor(spec.weight, "weight")
            let bias = try tensor(spec.bias, "bias")
            guard weight.shape.count == 4, weight.shape[2] == weight.shape[3], bias.shape == [weight.shape[0]] else {
                throw InferenceError(
                    .shapeMismatch,
                    "\(source): conv2d layer \(index) has weight \(weight.shape) and bias \(bias.shape); "
                        + "expected [out, in, k, k] and [out]")
            }
            let stride = spec.stride ?? 1
            let padding = spec.padding ?? 0
            guard (1...16).contains(stride), (0...16).contains(padding), (1...16).contains(weight.shape[2]) else {
                throw InferenceError(
                    .corrupt,
                    "\(source): conv2d layer \(index) has kernel \(weight.shape[2]), stride \(stride), padding \(padding); each must be in 1...16 (padding 0...16)"
                )
            }
            return .conv2d(
                Layer.Convolution(
                    weight: weight.values, bias: bias.values, inputChannels: weight.shape[1],
                    outputChannels: weight.shape[0], kernel: weight.shape[2], stride: stride, padding: padding))
        case "maxpool2d":
            let kernel = spec.kernel ?? 2
            let stride = spec.stride ?? kernel
            guard (1...16).contains(kernel), (1...16).contains(stride) else {
                throw InferenceError(
                    .corrupt,
                    "\(source): maxpool2d layer \(index) has kernel \(kernel), stride \(stride); each must be in 1...16"
                )
            }
            return .maxPool2d(kernel: kernel, stride: stride)
        default:
            throw InferenceError(
                .unsupported,
                "\(source): layer \(index) has op \"\(spec.op)\"; supported: flatten, linear, relu, conv2d, maxpool2d")
        }
    }

    /// A decoding error in the file's own terms: keys as the file spells them (`weights_sha256`).
    private static func describe(_ error: any Error) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            let names = keys.map { key in
                key.intValue.map { "[\($0)]" } ?? snakeCase(key.stringValue)
            }
            return names.isEmpty ? "the top level" : names.joined(separator: ".")
        }
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context.codingPath))"
            return "missing key \"\(snakeCase(key.stringValue))\"\(parent)"
        case DecodingError.typeMismatch(let type, let context):
            return "\(path(context.codingPath)) is not a \(type)"
        case DecodingError.valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is null; expected a \(type)"
        case DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty:
            return "\(path(context.codingPath)) holds a value out of range"
        case DecodingError.dataCorrupted:
            return "not valid JSON, or a number too large to read"
        default:
            return "\(error)"
        }
    }

    private static func snakeCase(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}

/// Reads a whole file, naming `what` it should be in the error when it cannot: missing, a directory,
/// or not readable.
func readFile(_ url: URL, what: String) throws(InferenceError) -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
        let parent = url.deletingLastPathComponent()
        var parentIsDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: parent.path, isDirectory: &parentIsDirectory),
            !parentIsDirectory.boolValue
        {
            throw InferenceError(.fileNotFound, "\(what) not found: \(parent.path) is a file, not a directory")
        }
        if FileManager.default.fileExists(atPath: parent.path), !FileManager.default.isReadableFile(atPath: parent.path)
        {
            throw InferenceError(.fileNotFound, "\(what) cannot be read: permission denied on \(parent.path)")
        }
        throw InferenceError(.fileNotFound, "\(what) not found: \(url.path) does not exist")
    }
    guard !isDirectory.boolValue else {
        throw InferenceError(.fileNotFound, "\(what) at \(url.path) is a directory, not a file")
    }
    guard FileManager.default.isReadableFile(atPath: url.path),
        let data = FileManager.default.contents(atPath: url.path)
    else {
        throw InferenceError(.fileNotFound, "\(what) at \(url.path) cannot be read: permission denied")
    }
    return [UInt8](data)
}

/// The output buffer of `Model.logits(for:)`, handed to its workers.
///
/// `@unchecked Sendable` is safe here because every worker writes a disjoint range of rows (its own
/// batches) and the buffer outlives `concurrentPerform`, which returns only when all workers are done.
private struct SendableBuffer: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>?
}
