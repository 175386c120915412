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
                throw InferenceError(
                    .shapeMismatch, "linear layer expects \(inputs) inputs but receives shape \(input)")
            }
            return [outputs]
        case .conv2d(let convolution):
            guard input.count == 3, input[0] == convolution.inputChannels else {
                throw InferenceError(
                    .shapeMismatch,
                    "conv2d layer expects \(convolution.inputChannels) channels of H x W but receives shape \(input)")
            }
            let height = (input[1] + 2 * convolution.padding - convolution.kernel) / convolution.stride + 1
            let width = (input[2] + 2 * convolution.padding - convolution.kernel) / convolution.stride + 1
            guard height > 0, width > 0 else {
                throw InferenceError(.shapeMismatch, "conv2d kernel is larger than its input \(input)")
            }
            return [convolution.outputChannels, height, width]
        case .maxPool2d(let kernel, let stride):
            guard input.count == 3, input[1] >= kernel, input[2] >= kernel else {
                throw InferenceError(
                    .shapeMismatch,
                    "maxpool2d expects C x H x W of at least \(kernel) x \(kernel) but receives \(input)")
            }
            return [input[0], (input[1] - kernel) / stride + 1, (input[2] - kernel) / stride + 1]
        }
    }

    /// The floats one image needs while this layer runs: its input, its output, and for a convolution
    /// its im2col patches.
    func floatsPerImage(input: [Int], output: [Int]) -> Int {
        let patches: Int
        if case .conv2d(let convolution) = self {
            patches =
                convolution.inputChannels * convolution.kernel * convolution.kernel * output.dropFirst().reduce(1, *)
        } else {
            patches = 0
        }
        return input.reduce(1, *) + output.reduce(1, *) + patches
    }

    /// Applies the layer to a batch whose shapes were checked with `outputShape(for:)` when the model loaded,
    /// replacing it with the layer's output. Elementwise layers work in place.
    func apply(to activations: inout Tensor) {
        switch self {
        case .flatten:
            activations.shape = [activations.batchSize, activations.values.count / max(activations.batchSize, 1)]
        case .relu:
            activations.values.withUnsafeMutableBufferPointer { buffer in
                guard let values = buffer.baseAddress else { return }
                for index in 0..<buffer.count {
                    values[index] = max(values[index], 0)
                }
            }
        default:
            activations = forward(activations)
        }
    }

    /// Applies the layer to a batch, returning a new tensor.
    func forward(_ input: Tensor) -> Tensor {
        switch self {
        case .flatten, .relu:
            var output = input
            apply(to: &output)
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
        let planes = batch * channels
        let output = [Float](unsafeUninitializedCapacity: planes * outputHeight * outputWidth) { buffer, count in
            count = buffer.count
            guard let destination = buffer.baseAddress else { return }
            input.values.withUnsafeBufferPointer { values in
                guard let source = values.baseAddress else { return }
                var written = destination
                for plane in 0..<planes {
                    let base = source + plane * height * width
                    for row in 0..<outputHeight {
                        let top = base + row * stride * width
                        if kernel == 2 && stride == 2 {
                            // The common case, written out so the compiler keeps it branch-free.
                            for column in 0..<outputWidth {
                                let corner = top + 2 * column
                                written.initialize(
                                    to: max(max(corner[0], corner[1]), max(corner[width], corner[width + 1])))
                                written += 1
                            }
                            continue
                        }
                        for column in 0..<outputWidth {
                            let corner = top + column * stride
                            var best = corner[0]
                            for dy in 0..<kernel {
                                let line = corner + dy * width
                                for dx in 0..<kernel where line[dx] > best {
                                    best = line[dx]
                                }
                            }
                            written.initialize(to: best)
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

        // 1. im2col. Each patch row is filled one output row at a time: the pixels a kernel offset
        //    reads along an output row are evenly spaced, and the ones that fall in the padding are zero.
        let patches = [Float](unsafeUninitializedCapacity: patchSize * columns) { buffer, count in
            count = buffer.count
            guard let destination = buffer.baseAddress else { return }
            input.values.withUnsafeBufferPointer { values in
                guard let source = values.baseAddress else { return }
                var cursor = destination
                for channel in 0..<inputChannels {
                    for dy in 0..<kernel {
                        for dx in 0..<kernel {
                            // Output columns whose input x = column * stride + dx - padding lies inside the image.
                            let firstColumn = min(outputWidth, max(0, (padding - dx + stride - 1) / stride))
                            let endColumn = max(
                                firstColumn, min(outputWidth, (width + padding - dx + stride - 1) / stride))
                            for item in 0..<batch {
                                let plane = source + (item * inputChannels + channel) * height * width
                                for row in 0..<outputHeight {
                                    let y = row * stride + dy - padding
                                    guard y >= 0, y < height else {
                                        cursor.initialize(repeating: 0, count: outputWidth)
                                        cursor += outputWidth
                                        continue
                                    }
                                    cursor.initialize(repeating: 0, count: firstColumn)
                                    let line = plane + y * width + firstColumn * stride + dx - padding
                                    if stride == 1 {
                                        (cursor + firstColumn).initialize(from: line, count: endColumn - firstColumn)
                                    } else {
                                        for column in 0..<(endColumn - firstColumn) {
                                            (cursor + firstColumn + column).initialize(to: line[column * stride])
                                        }
                                    }
                                    (cursor + endColumn).initialize(repeating: 0, count: outputWidth - endColumn)
                                    cursor += outputWidth
                                }
                            }
                        }
                    }
                }
            }
        }

        // 2. [outputChannels, patchSize] x [patchSize, columns].
        // With beta = 0 the product never reads its output, so it need not be zeroed first.
        let product = [Float](unsafeUninitializedCapacity: outputChannels * columns) { buffer, count in
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outputChannels), Int32(columns), Int32(patchSize),
                1, weight, Int32(patchSize), patches, Int32(columns), 0, buffer.baseAddress, Int32(columns))
            count = buffer.count
        }

        // 3. [outputChannels, batch, positions] to [batch, outputChannels, positions], plus bias.
        let output = [Float](unsafeUninitializedCapacity: batch * outputChannels * positions) { buffer, count in
            count = buffer.count
            guard let destination = buffer.baseAddress else { return }
            product.withUnsafeBufferPointer { values in
                guard let source = values.baseAddress else { return }
                for channel in 0..<outputChannels {
                    let channelBias = bias[channel]
                    for item in 0..<batch {
                        let from = source + (channel * batch + item) * positions
                        let to = destination + (item * outputChannels + channel) * positions
                        for position in 0..<positions {
                            (to + position).initialize(to: from[position] + channelBias)
                        }
                    }
                }
            }
        }
        return Tensor(shape: [batch, outputChannels, outputHeight, outputWidth], values: output)
    }
}
