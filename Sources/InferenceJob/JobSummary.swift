import Inference

/// The job's result, printed as one line of JSON when it finishes.
public struct JobSummary: Codable, Sendable, Equatable {
    /// One inline image's classification.
    public struct ImagePrediction: Codable, Sendable, Equatable {
        /// The image's position in the request.
        public let index: Int
        /// The predicted label.
        public let label: Int
        /// The predicted class's name.
        public let className: String
        /// Softmax probabilities, indexed by label.
        public let probabilities: [Double]

        enum CodingKeys: String, CodingKey {
            case index, label, probabilities
            case className = "class"
        }
    }

    /// `mnist` or `kmnist`.
    public let dataset: String
    /// The model's name, such as `mnist-ff`.
    public let model: String
    /// `ff` or `cnn`.
    public let type: String
    /// `evaluate` (the evaluation split) or `predict` (inline images).
    public let mode: String
    /// How many images were classified.
    public let samples: Int
    /// For `evaluate`: how many were classified correctly.
    public let correct: Int?
    /// For `evaluate`: `correct / samples`.
    public let accuracy: Double?
    /// For `evaluate`: which images were scored, such as `kmnist/kmnist-test-imgs.npz[8000..<10000]`.
    public let split: String?
    /// For `predict`: each image's classification.
    public let predictions: [ImagePrediction]?
    /// Milliseconds from start to finish, loading included.
    public let durationMs: Double

    enum CodingKeys: String, CodingKey {
        case dataset, model, type, mode, samples, correct, accuracy, split, predictions
        case durationMs = "duration_ms"
    }
}
