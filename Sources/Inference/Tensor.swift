/// A dense float32 array in row-major order, with the batch as its first dimension.
public struct Tensor: Sendable, Equatable {
    /// The size of each dimension, outermost first (`[batch, channels, height, width]` for images).
    public var shape: [Int]
    /// The values, `shape.reduce(1, *)` of them.
    public var values: [Float]

    /// Creates a tensor; `values.count` must equal the product of `shape`.
    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "tensor shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        self.values = values
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, values: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// The number of items in the batch.
    public var batchSize: Int { shape.first ?? 0 }

    /// The values of batch item `index`, flattened.
    public func row(_ index: Int) -> ArraySlice<Float> {
        let width = values.count / max(batchSize, 1)
        return values[index * width..<(index + 1) * width]
    }
}
