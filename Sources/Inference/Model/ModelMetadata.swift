/// What a trained model is and how to run it: the `<name>.json` file that training writes beside the weights.
public struct ModelMetadata: Codable, Sendable, Equatable {
    /// How pixels become model inputs: `x = (pixel / scale - mean) / std`, in NCHW layout.
    public struct Input: Codable, Sendable, Equatable {
        /// Colour channels; 1 for grayscale.
        public let channels: Int
        /// Image height in pixels.
        public let height: Int
        /// Image width in pixels.
        public let width: Int
        /// Divides the raw 0-255 pixel first.
        public let scale: Float
        /// Subtracted after scaling.
        public let mean: Float
        /// Divides last.
        public let std: Float
    }

    /// One step of the forward pass, in execution order.
    public struct LayerSpec: Codable, Sendable, Equatable {
        /// `flatten`, `linear`, `relu`, `conv2d` or `maxpool2d`.
        public let op: String
        /// The weight tensor's name in the weights file (`linear`, `conv2d`).
        public let weight: String?
        /// The bias tensor's name in the weights file (`linear`, `conv2d`).
        public let bias: String?
        /// Step between windows (`conv2d`, `maxpool2d`).
        public let stride: Int?
        /// Zeros added on each side (`conv2d`).
        public let padding: Int?
        /// Window size (`maxpool2d`).
        public let kernel: Int?
    }

    /// A range of images and labels in the data directory.
    public struct DataSplit: Codable, Sendable, Equatable {
        /// The images file, relative to the data directory.
        public let images: String
        /// The labels file, relative to the data directory.
        public let labels: String
        /// The index of the first image used.
        public let start: Int
        /// How many images from `start` are used.
        public let count: Int
        /// The fraction of them classified correctly, for an evaluation split.
        public let accuracy: Double?
        /// How many of them are classified correctly, for an evaluation split.
        public let correct: Int?
    }

    /// The metadata format, `tierserve-model/1`.
    public let format: String
    /// The model's name, such as `mnist-ff`.
    public let name: String
    /// The dataset it classifies: `mnist` or `kmnist`.
    public let dataset: String
    /// The kind of network: `ff` (feedforward) or `cnn`.
    public let type: String
    /// A one-line description of the layers.
    public let architecture: String
    /// The weights file, relative to this file's directory.
    public let weights: String
    /// The SHA-256 of the weights file, in hexadecimal.
    public let weightsSha256: String
    /// Input geometry and normalization.
    public let input: Input
    /// Class names, indexed by label.
    public let classes: [String]
    /// The forward pass.
    public let layers: [LayerSpec]
    /// The data the model was trained on.
    public let training: DataSplit
    /// The held-out data it is scored on, with the accuracy training measured.
    public let evaluation: DataSplit

    /// The metadata format this reader understands.
    public static let supportedFormat = "tierserve-model/1"
}
