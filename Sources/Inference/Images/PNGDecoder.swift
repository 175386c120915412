import CPNG

/// Decodes PNG files to 8-bit grayscale with libpng's simplified API.
///
/// Colour images are converted to gray and transparent pixels composed onto black, so any PNG of the
/// right size becomes pixels the model can read. 16-bit images are read at 16 bits and scaled to 8
/// (level v becomes round(v · 255 / 65535)); letting libpng reduce them would treat them as linear light and
/// gamma-encode them, changing every level.
public enum PNGDecoder {
    /// A decoded image.
    public struct Image: Sendable, Equatable {
        /// Width in pixels.
        public let width: Int
        /// Height in pixels.
        public let height: Int
        /// `width · height` gray levels, 0-255, row after row.
        public let pixels: [UInt8]
    }

    /// The eight bytes every PNG file starts with.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Decodes `bytes` as a PNG.
    ///
    /// - Throws: `InferenceError.invalidImage` when the bytes are not a PNG or libpng cannot decode them.
    public static func decodeGrayscale(_ bytes: [UInt8]) throws(InferenceError) -> Image {
        guard bytes.count > signature.count, Array(bytes.prefix(signature.count)) == signature else {
            throw InferenceError(.invalidImage, "the data is not a PNG (it lacks the PNG signature)")
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        // png_image_free releases what begin_read allocated; it is safe to call after a failure too.
        defer { png_image_free(&image) }

        let began = bytes.withUnsafeBytes { buffer in
            png_image_begin_read_from_memory(&image, buffer.baseAddress, buffer.count)
        }
        guard began != 0 else {
            throw InferenceError(.invalidImage, "the PNG cannot be decoded: \(message(of: &image))")
        }
        let sixteenBit = image.format & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0
        // PNG_FORMAT_LINEAR_Y is PNG_FORMAT_FLAG_LINEAR alone: 16-bit gray.
        image.format = sixteenBit ? UInt32(PNG_FORMAT_FLAG_LINEAR) : UInt32(PNG_FORMAT_GRAY)
        let width = Int(image.width)
        let height = Int(image.height)
        guard width > 0, height > 0, width * height <= 4096 * 4096 else {
            throw InferenceError(.invalidImage, "the PNG is \(width)x\(height), too large to decode")
        }
        var pixels: [UInt8]
        let finished: Int32
        if sixteenBit {
            var levels = [UInt16](repeating: 0, count: width * height)
            finished = levels.withUnsafeMutableBytes { buffer in
                png_image_finish_read(&image, nil, buffer.baseAddress, Int32(width), nil)
            }
            pixels = levels.map { UInt8((UInt32($0) * 255 + 32767) / 65535) }
        } else {
            pixels = [UInt8](repeating: 0, count: width * height)
            finished = pixels.withUnsafeMutableBytes { buffer in
                png_image_finish_read(&image, nil, buffer.baseAddress, Int32(width), nil)
            }
        }
        guard finished != 0 else {
            throw InferenceError(.invalidImage, "the PNG cannot be decoded: \(message(of: &image))")
        }
        return Image(width: width, height: height, pixels: pixels)
    }

    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { buffer in
            String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
