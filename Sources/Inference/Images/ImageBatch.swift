import Foundation

/// Images given inline for request-level inference, decoded and checked against a model's input size.
///
/// The JSON form is `{"images": [IMAGE, ...]}` where each image is either an array of `height` rows of
/// `width` integers 0-255 (or one flat array of `height · width` of them), or a string holding a
/// base64-encoded PNG of exactly `width` x `height` pixels. Other keys in the document are ignored.
///
/// A compact form, `{"images_base64": "..."}`, holds the raw pixels of every image back to back (`width ·
/// height` bytes each, row after row), base64-encoded. Tiers hand images to their Jobs this way: 64 images
/// fit in 67 KB, under Linux's 128 KiB limit on one environment variable, where pixel arrays would not.
public struct ImageBatch: Sendable, Equatable {
    /// The most images one request may carry.
    public static let maximumCount = 64

    /// The number of images.
    public let count: Int
    /// `count · width · height` pixels, image after image.
    public let pixels: [UInt8]

    /// Decodes the JSON form.
    ///
    /// - Parameters:
    ///   - json: the request document.
    ///   - width: the width every image must have.
    ///   - height: the height every image must have.
    /// - Throws: `InferenceError.invalidImage` naming the image and what is wrong with it.
    public init(json: Data, width: Int = 28, height: Int = 28) throws(InferenceError) {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: json)
        } catch {
            throw InferenceError(.invalidImage, "expected a JSON object {\"images\": [...]} holding an array of images")
        }
        if let packed = document.imagesBase64 {
            guard document.images == nil else {
                throw InferenceError(.invalidImage, "give the images as \"images\" or as \"images_base64\", not both")
            }
            try self.init(packed: packed, width: width, height: height)
            return
        }
        guard let images = document.images else {
            throw InferenceError(.invalidImage, "expected a JSON object {\"images\": [...]} holding an array of images")
        }
        guard !images.isEmpty else {
            throw InferenceError(.invalidImage, "no images given; send 1 to \(Self.maximumCount)")
        }
        guard images.count <= Self.maximumCount else {
            throw InferenceError(
                .invalidImage, "\(images.count) images given; at most \(Self.maximumCount) are classified per request")
        }
        var pixels: [UInt8] = []
        pixels.reserveCapacity(images.count * width * height)
        for (index, image) in images.enumerated() {
            do {
                pixels += try image.pixels(width: width, height: height)
            } catch {
                throw InferenceError(error.kind, "image \(index): \(error.message)")
            }
        }
        try self.init(pixels: pixels, width: width, height: height)
    }

    /// Raw pixels, `width · height` bytes per image, back to back.
    public init(pixels: [UInt8], width: Int = 28, height: Int = 28) throws(InferenceError) {
        let size = width * height
        guard !pixels.isEmpty, pixels.count % size == 0 else {
            throw InferenceError(
                .invalidImage,
                "\(pixels.count) bytes of pixels are not whole \(width)x\(height) images of \(size) bytes")
        }
        guard pixels.count / size <= Self.maximumCount else {
            throw InferenceError(
                .invalidImage,
                "\(pixels.count / size) images given; at most \(Self.maximumCount) are classified per request")
        }
        self.count = pixels.count / size
        self.pixels = pixels
    }

    private init(packed: String, width: Int, height: Int) throws(InferenceError) {
        guard let data = Data(base64Encoded: packed) else {
            throw InferenceError(.invalidImage, "\"images_base64\" is not base64")
        }
        try self.init(pixels: [UInt8](data), width: width, height: height)
    }

    /// The compact form of these images: `{"images_base64": "..."}`.
    public var packedJSON: String {
        "{\"images_base64\":\"\(Data(pixels).base64EncodedString())\"}"
    }

    private struct Document: Decodable {
        let images: [Image]?
        let imagesBase64: String?

        enum CodingKeys: String, CodingKey {
            case images
            case imagesBase64 = "images_base64"
        }
    }

    /// One JSON value of the `images` array, kept as it came so that errors can say what it was.
    private enum Image: Decodable {
        case png(String)
        case rows([[Scalar]])
        case flat([Scalar])
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .png(text)
            } else if let rows = try? container.decode([[Scalar]].self) {
                self = .rows(rows)
            } else if let flat = try? container.decode([Scalar].self) {
                self = .flat(flat)
            } else {
                self = .other
            }
        }

        func pixels(width: Int, height: Int) throws(InferenceError) -> [UInt8] {
            let expected = "expected \(width)x\(height) grayscale pixels 0-255 or a base64 PNG of that size"
            let values: [Scalar]
            switch self {
            case .png(let text):
                guard !text.isEmpty else {
                    throw InferenceError(.invalidImage, "the image is an empty string; \(expected)")
                }
                guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters), !data.isEmpty else {
                    throw InferenceError(.invalidImage, "the string is not base64; \(expected)")
                }
                let png = try PNGDecoder.decodeGrayscale([UInt8](data))
                guard png.width == width, png.height == height else {
                    throw InferenceError(.invalidImage, "the PNG is \(png.width)x\(png.height); \(expected)")
                }
                return png.pixels
            case .rows(let rows):
                guard rows.count == height, rows.allSatisfy({ $0.count == width }) else {
                    let widths = Set(rows.map(\.count)).sorted().map(String.init).joined(separator: "/")
                    throw InferenceError(
                        .invalidImage, "the image is \(widths)x\(rows.count) (width x height); \(expected)")
                }
                values = rows.flatMap { $0 }
            case .flat(let flat):
                guard flat.count == width * height else {
                    throw InferenceError(.invalidImage, "the image has \(flat.count) pixels; \(expected)")
                }
                values = flat
            case .other:
                throw InferenceError(.invalidImage, "the image is neither an array of pixels nor a string; \(expected)")
            }
            var pixels: [UInt8] = []
            pixels.reserveCapacity(values.count)
            for (offset, value) in values.enumerated() {
                guard case .number(let number) = value, let level = UInt8(exactly: number) else {
                    throw InferenceError(
                        .invalidImage,
                        "pixel \(offset) (row \(offset / width), column \(offset % width)) is \(value); \(expected)")
                }
                pixels.append(level)
            }
            return pixels
        }
    }

    /// A JSON scalar where a pixel is expected.
    private enum Scalar: Decodable, CustomStringConvertible {
        case number(Double)
        case other(String)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) {
                self = .other(String(flag))
            } else if let number = try? container.decode(Double.self) {
                self = .number(number)
            } else if let text = try? container.decode(String.self) {
                self = .other("\"\(text)\"")
            } else if container.decodeNil() {
                self = .other("null")
            } else {
                self = .other("not a number")
            }
        }

        var description: String {
            switch self {
            case .number(let number):
                number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
            case .other(let text): text
            }
        }
    }
}
