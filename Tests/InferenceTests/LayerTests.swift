import Testing

@testable import Inference

/// Layer arithmetic against direct, loop-by-loop computations of the same definitions.
@Suite struct LayerTests {
    /// The convolution written as its definition: out[o][y][x] = b[o] + Σ w[o][c][i][j] · in[c][y·s+i-p][x·s+j-p].
    static func directConvolution(
        _ input: [Float], channels: Int, height: Int, width: Int, weight: [Float], bias: [Float], outputs: Int,
        kernel: Int, stride: Int, padding: Int
    ) -> [Float] {
        let outHeight = (height + 2 * padding - kernel) / stride + 1
        let outWidth = (width + 2 * padding - kernel) / stride + 1
        var result: [Float] = []
        for o in 0..<outputs {
            for y in 0..<outHeight {
                for x in 0..<outWidth {
                    var sum = bias[o]
                    for c in 0..<channels {
                        for i in 0..<kernel {
                            for j in 0..<kernel {
                                let row = y * stride + i - padding
                                let column = x * stride + j - padding
                                guard row >= 0, row < height, column >= 0, column < width else { continue }
                                sum +=
                                    weight[((o * channels + c) * kernel + i) * kernel + j]
                                    * input[(c * height + row) * width + column]
                            }
                        }
                    }
                    result.append(sum)
                }
            }
        }
        return result
    }

    @Test("conv2d equals the direct sum for each image of a batch", arguments: [(1, 0), (1, 1), (2, 1), (2, 0)])
    func convolution(stride: Int, padding: Int) {
        let (batch, channels, height, width, outputs, kernel) = (3, 2, 7, 6, 4, 3)
        let weight = Synthetic.values(outputs * channels * kernel * kernel, seed: 1)
        let bias = Synthetic.values(outputs, seed: 2)
        let input = Synthetic.values(batch * channels * height * width, seed: 3)
        let layer = Layer.conv2d(
            .init(
                weight: weight, bias: bias, inputChannels: channels, outputChannels: outputs, kernel: kernel,
                stride: stride, padding: padding))
        let output = layer.forward(Tensor(shape: [batch, channels, height, width], values: input))

        let perImage = channels * height * width
        var expected: [Float] = []
        for item in 0..<batch {
            expected += Self.directConvolution(
                Array(input[item * perImage..<(item + 1) * perImage]), channels: channels, height: height,
                width: width, weight: weight, bias: bias, outputs: outputs, kernel: kernel, stride: stride,
                padding: padding)
        }
        #expect(output.shape[0] == batch && output.shape[1] == outputs)
        #expect(output.values.count == expected.count)
        #expect(zip(output.values, expected).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test("linear computes x · Wᵀ + b for every row")
    func linear() {
        let weight: [Float] = [1, 2, 3, -1, 0, 1]  // 2 outputs x 3 inputs.
        let layer = Layer.linear(weight: weight, bias: [0.5, -0.5], inputs: 3, outputs: 2)
        let output = layer.forward(Tensor(shape: [2, 3], values: [1, 1, 1, 2, 0, -1]))
        #expect(output.shape == [2, 2])
        #expect(output.values == [6.5, -0.5, -0.5, -3.5])
    }

    @Test("maxpool takes the largest of each window; relu clamps negatives")
    func poolingAndRelu() {
        let input = Tensor(shape: [1, 1, 4, 4], values: (0..<16).map { Float($0 % 5) - 2 })
        let pooled = Layer.maxPool2d(kernel: 2, stride: 2).forward(input)
        // Rows: [-2 -1 0 1] [2 -2 -1 0] [1 2 -2 -1] [0 1 2 -2].
        #expect(pooled.values == [2, 1, 2, 2])
        #expect(Layer.relu.forward(input).values.allSatisfy { $0 >= 0 })
        #expect(Layer.relu.forward(input).values.filter { $0 > 0 } == input.values.filter { $0 > 0 })
    }

    @Test("a layer that does not fit its input says which shapes disagree")
    func shapeMismatch() throws {
        let layer = Layer.linear(weight: [Float](repeating: 0, count: 20), bias: [0, 0], inputs: 10, outputs: 2)
        let error = #expect(throws: InferenceError.self) { try layer.outputShape(for: [784]) }
        #expect(error?.kind == .shapeMismatch)
        #expect(error?.message.contains("expects 10 inputs") == true)
    }
}

/// Building a model from metadata and tensors: the checks that keep bad files out.
@Suite struct ModelAssemblyTests {
    let convolutional = Synthetic.metadata(
        layers: [
            Synthetic.layer("conv2d", weight: "c.weight", bias: "c.bias", stride: 1, padding: 1),
            Synthetic.layer("relu"), Synthetic.layer("maxpool2d", stride: 2, kernel: 2), Synthetic.layer("flatten"),
            Synthetic.layer("linear", weight: "f.weight", bias: "f.bias"),
        ])

    func tensors(linearInputs: Int = 8) -> [String: Tensor] {
        [
            "c.weight": Tensor(shape: [2, 1, 3, 3], values: Synthetic.values(18, seed: 4)),
            "c.bias": Tensor(shape: [2], values: [0.1, -0.1]),
            "f.weight": Tensor(shape: [3, linearInputs], values: Synthetic.values(3 * linearInputs, seed: 5)),
            "f.bias": Tensor(shape: [3], values: [0, 0, 0]),
        ]
    }

    @Test("a conv, pool and linear stack classifies a batch into probabilities that sum to one")
    func classifies() throws {
        let model = try Model(metadata: convolutional, tensors: tensors(), source: "test")
        let images = (0..<(5 * 16)).map { UInt8($0 * 7 % 256) }
        let predictions = model.classify(images)
        #expect(predictions.count == 5)
        for prediction in predictions {
            #expect(abs(prediction.probabilities.reduce(0, +) - 1) < 1e-9)
            #expect(prediction.probabilities[prediction.label] == prediction.probabilities.max())
        }
    }

    @Test("batches larger than the internal batch size give the same logits as one at a time")
    func batchingIsInvisible() throws {
        let model = try Model(metadata: convolutional, tensors: tensors(), source: "test")
        let count = model.batchSize + 3
        let images = (0..<(count * 16)).map { UInt8($0 * 31 % 256) }
        let all = model.logits(for: images)
        let last = model.logits(for: Array(images[(count - 1) * 16..<count * 16]))
        #expect(Array(all.row(count - 1)) == last.values)
    }

    @Test("a linear layer whose inputs do not match the flattened conv output is refused")
    func refusesMismatchedWeights() {
        let error = #expect(throws: InferenceError.self) {
            try Model(metadata: convolutional, tensors: tensors(linearInputs: 9), source: "w.safetensors")
        }
        #expect(error?.kind == .shapeMismatch)
        #expect(error?.message.contains("expects 9 inputs but receives shape [8]") == true)
    }

    @Test("a missing tensor is named, with the ones that exist")
    func missingTensor() {
        var partial = tensors()
        partial["f.bias"] = nil
        let error = #expect(throws: InferenceError.self) {
            try Model(metadata: convolutional, tensors: partial, source: "w.safetensors")
        }
        #expect(error?.message.contains("needs tensor \"f.bias\"") == true)
    }

    @Test("an op the reader does not implement is refused by name")
    func unknownOp() {
        let metadata = Synthetic.metadata(layers: [Synthetic.layer("batchnorm")])
        let error = #expect(throws: InferenceError.self) { try Model(metadata: metadata, tensors: [:], source: "w") }
        #expect(error?.kind == .unsupported)
        #expect(error?.message.contains("\"batchnorm\"") == true)
    }
}
