import COpenBLAS

/// One step of a network's forward pass, holding its weights.
///
/// Weight layouts are PyTorch's: a linear weight is `[outputs, inputs]`, a convolution weight
/// `[outputChannels, inputChannels, kernel, kernel]`, and activations are NCHW.
enum Layer: Sendable {
    /// Keeps the batch dimension and joins the rest, in C, H, W order.
    case flatten
    /// `max(0, x)`, elementwise.
    case relu
    /// `y = x · weightᵀ + bias`.
    case linear(weight: [Float], bias: [Float], inputs: Int, outputs: Int)
    /// A square-kernel convolution with zero padding, computed as im2col followed by one matrix product.
    case conv2d(Convolution)
    /// The maximum over square windows.
    case maxPool2d(kernel: Int, stride: Int)

    /// The weights and geometry of a convolution.
    struct Convolution: Sendable {
        /// `[outputChannels, inputChannels · kernel · kernel]`, row-major.
        let weight: [Float]
        let bias: [Float]
        let inputChannels: Int
        let outputChannels: Int
        let kernel: Int
        let stride: Int
        let padding: Int
    }

    /// The shape of one item's output given one item's input shape.
    ///
    /// - Throws: `InferenceError.shapeMismatch` saying why the input does not fit the layer.
    func outputShape(for input: [Int]) throws(InferenceError) -> [Int] {
        switch self {
        case .flatten:
            return [input.reduce(1, *)]
        case .relu:
            return input
        case .linear(_, _, let inputs, let outputs):
            guard input == [inputs] else {
                throw InferenceError(.shapeMismatch, "linear layer expects \(inputs) inputs but receives shape \(input)")
            }
            return [outputs]
        case .conv2d(let convolution):
            guard input.count == 3, input[0] == convolution.inputChannels else {
                throw InferenceError(.shapeMismatch, 
                    "conv2d layer expects \(convolution.inputChannels) channels of H x W but receives shape \(input)")
            }
            let height = (input[1] + 2 * convolution.padding - convolution.kernel) / convolution.stride + 1
            let width = (input[2] + 2 * convolution.padding - convolution.kernel) / convolution.stride + 1
            guard height > 0, width > 0 else { throw InferenceError(.shapeMismatch, "conv2d kernel is larger than its input \(input)") }
            return [convolution.outputChannels, height, width]
        case .maxPool2d(let kernel, let stride):
            guard input.count == 3, input[1] >= kernel, input[2] >= kernel else {
                throw InferenceError(.shapeMismatch, "maxpool2d expects C x H x W of at least \(kernel) x \(kernel) but receives \(input)")
            }
            return [input[0], (input[1] - kernel) / stride + 1, (input[2] - kernel) / stride + 1]
        }
    }

    /// Applies the layer to a batch whose shapes were checked with `outputShape(for:)` when the model loaded.
    func forward(_ input: Tensor) -> Tensor {
        switch self {
        case .flatten:
            return Tensor(shape: [input.batchSize, input.values.count / max(input.batchSize, 1)], values: input.values)
        case .relu:
            var output = input
            output.values.withUnsafeMutableBufferPointer { values in
                for index in values.indices where values[index] < 0 {
                    values[index] = 0
                }
            }
            return output
        case .linear(let weight, let bias, let inputs, let outputs):
            return Self.linear(input, weight: weight, bias: bias, inputs: inputs, outputs: outputs)
        case .conv2d(let convolution):
            return convolution.forward(input)
        case .maxPool2d(let kernel, let stride):
            return Self.maxPool(input, kernel: kernel, stride: stride)
        }
    }

    private static func linear(_ input: Tensor, weight: [Float], bias: [Float], inputs: Int, outputs: Int) -> Tensor {
        let batch = input.batchSize
        // Start from the bias in every row and let the product add to it (beta = 1).
        var values = [Float](repeating: 0, count: batch * outputs)
        for row in 0..<batch {
            values.replaceSubrange(row * outputs..<(row + 1) * outputs, with: bias)
        }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(batch), Int32(outputs), Int32(inputs),
            1, input.values, Int32(inputs), weight, Int32(inputs), 1, &values, Int32(outputs))
        return Tensor(shape: [batch, outputs], values: values)
    }

    private static func maxPool(_ input: Tensor, kernel: Int, stride: Int) -> Tensor {
        let (batch, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let outputHeight = (height - kernel) / stride + 1
        let outputWidth = (width - kernel) / stride + 1
        var output = [Float](repeating: 0, count: batch * channels * outputHeight * outputWidth)
        input.values.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                var written = 0
                for plane in 0..<batch * channels {
                    let base = plane * height * width
                    for row in 0..<outputHeight {
                        for column in 0..<outputWidth {
                            var best = -Float.infinity
                            for dy in 0..<kernel {
                                let line = base + (row * stride + dy) * width + column * stride
                                for dx in 0..<kernel {
                                    best = max(best, source[line + dx])
                                }
                            }
                            destination[written] = best
                            written += 1
                        }
                    }
                }
            }
        }
        return Tensor(shape: [batch, channels, outputHeight, outputWidth], values: output)
    }
}

extension Layer.Convolution {
    /// Convolves a `[batch, inputChannels, height, width]` tensor.
    ///
    /// 1. im2col: lay every kernel-sized patch of every image out as a column of one
    ///    `[inputChannels · kernel², batch · outputPositions]` matrix;
    /// 2. one matrix product with the `[outputChannels, inputChannels · kernel²]` weights;
    /// 3. move the result from channel-major to NCHW while adding the bias.
    func forward(_ input: Tensor) -> Tensor {
        let (batch, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        let outputHeight = (height + 2 * padding - kernel) / stride + 1
        let outputWidth = (width + 2 * padding - kernel) / stride + 1
        let positions = outputHeight * outputWidth
        let columns = batch * positions
        let patchSize = inputChannels * kernel * kernel

        // 1. im2col.
        var patches = [Float](repeating: 0, count: patchSize * columns)
        input.values.withUnsafeBufferPointer { source in
            patches.withUnsafeMutableBufferPointer { destination in
                for channel in 0..<inputChannels {
                    for dy in 0..<kernel {
                        for dx in 0..<kernel {
                            let patchRow = (channel * kernel + dy) * kernel + dx
                            var cursor = patchRow * columns
                            for item in 0..<batch {
                                let plane = (item * inputChannels + channel) * height * width
                                for row in 0..<outputHeight {
                                    let y = row * stride + dy - padding
                                    guard y >= 0, y < height else {
                                        cursor += outputWidth  // Already zero: padding.
                                        continue
                                    }
                                    let line = plane + y * width
                                    for column in 0..<outputWidth {
                                        let x = column * stride + dx - padding
                                        if x >= 0, x < width {
                                            destination[cursor] = source[line + x]
                                        }
                                        cursor += 1
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        // 2. [outputChannels, patchSize] x [patchSize, columns].
        var product = [Float](repeating: 0, count: outputChannels * columns)
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outputChannels), Int32(columns), Int32(patchSize),
            1, weight, Int32(patchSize), patches, Int32(columns), 0, &product, Int32(columns))

        // 3. [outputChannels, batch, positions] to [batch, outputChannels, positions], plus bias.
        var output = [Float](repeating: 0, count: batch * outputChannels * positions)
        product.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                for channel in 0..<outputChannels {
                    let channelBias = bias[channel]
                    for item in 0..<batch {
                        let from = (channel * batch + item) * positions
                        let to = (item * outputChannels + channel) * positions
                        for position in 0..<positions {
                            destination[to + position] = source[from + position] + channelBias
                        }
                    }
                }
            }
        }
        return Tensor(shape: [batch, outputChannels, outputHeight, outputWidth], values: output)
    }
}
