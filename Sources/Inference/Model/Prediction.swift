import Foundation

/// One image's classification: its most likely class and the probability of every class.
public struct Prediction: Sendable, Equatable, Codable {
    /// The index of the most likely class.
    public let label: Int
    /// The most likely class's name.
    public let className: String
    /// Softmax probabilities, indexed by label.
    public let probabilities: [Double]

    /// Turns raw logits into a prediction, computing the softmax stably in double precision.
    public init(logits: [Float], classes: [String]) {
        let largest = Double(logits.max() ?? 0)
        let exponentials = logits.map { exp(Double($0) - largest) }
        let total = exponentials.reduce(0, +)
        probabilities = exponentials.map { $0 / total }
        label = logits.indices.max { logits[$0] < logits[$1] } ?? 0
        className = classes.indices.contains(label) ? classes[label] : String(label)
    }

    enum CodingKeys: String, CodingKey {
        case label
        case className = "class"
        case probabilities
    }
}
