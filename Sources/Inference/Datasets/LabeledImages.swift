import Foundation

/// A contiguous range of a dataset: grayscale images and their labels.
public struct LabeledImages: Sendable {
    /// Image height in pixels.
    public let height: Int
    /// Image width in pixels.
    public let width: Int
    /// `count · height · width` pixels, 0-255, image after image.
    public let pixels: [UInt8]
    /// One label per image.
    public let labels: [Int]

    /// The number of images.
    public var count: Int { labels.count }

    /// Loads images `start ..< start + count` and their labels from an images file and a labels file.
    ///
    /// Files ending in `.npz` are read as NumPy archives; anything else as IDX (gzip-compressed or not).
    ///
    /// - Throws: `InferenceError` when a file is missing or corrupt, the two disagree in length, or the range
    ///   is not inside them.
    public static func load(
        images imagesURL: URL, labels labelsURL: URL, start: Int, count: Int
    ) throws(InferenceError) -> LabeledImages {
        let (imageShape, pixels) = try readArray(imagesURL, what: "dataset images")
        let (labelShape, labelBytes) = try readArray(labelsURL, what: "dataset labels")
        guard imageShape.count == 3 else {
            throw InferenceError(
                .corrupt, "\(imagesURL.path) holds shape \(imageShape); expected [count, rows, columns]")
        }
        guard labelShape.count == 1, labelShape[0] == imageShape[0] else {
            throw InferenceError(
                .corrupt,
                "\(labelsURL.path) holds \(labelShape) labels but \(imagesURL.lastPathComponent) holds \(imageShape[0]) images"
            )
        }
        guard start >= 0, count > 0, start <= imageShape[0], count <= imageShape[0] - start else {
            throw InferenceError(
                .shapeMismatch,
                "\(count) images from index \(start) were asked for but \(imagesURL.path) holds \(imageShape[0])")
        }
        let size = imageShape[1] * imageShape[2]
        return LabeledImages(
            height: imageShape[1], width: imageShape[2],
            pixels: start == 0 && count == imageShape[0]
                ? pixels : Array(pixels[start * size..<(start + count) * size]),
            labels: labelBytes[start..<start + count].map(Int.init))
    }

    private static func readArray(_ url: URL, what: String) throws(InferenceError) -> ([Int], [UInt8]) {
        let bytes = try readFile(url, what: what)
        if url.pathExtension == "npz" {
            let array = try NumPyArray(npz: bytes, source: url.path)
            do {
                return (array.shape, try array.bytes())
            } catch {
                throw InferenceError(error.kind, "\(url.path): \(error.message)")
            }
        }
        let file = try IDXFile(bytes: bytes, source: url.path)
        return (file.dimensions, file.values)
    }
}
