import Foundation
import Testing

@testable import Inference

@Suite struct SafeTensorsTests {
    @Test("reads tensors back with their shapes and values, ignoring __metadata__")
    func roundTrip() throws {
        let file = Synthetic.safetensors([("a", [2, 3], [1, 2, 3, 4, 5, 6]), ("b", [1], [-0.5])])
        let tensors = try SafeTensors.parse(file, source: "t.safetensors")
        #expect(tensors.keys.sorted() == ["a", "b"])
        #expect(tensors["a"] == Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
        #expect(tensors["b"]?.values == [-0.5])
    }

    @Test("a dtype other than F32 is refused by name")
    func otherDtype() {
        let file = Synthetic.safetensors([("a", [2], [1, 2])], dtype: "F16")
        let error = #expect(throws: InferenceError.self) { try SafeTensors.parse(file, source: "t.safetensors") }
        #expect(error?.kind == .unsupported)
        #expect(error?.message.contains("dtype F16") == true)
    }

    @Test("a truncated file or a nonsense header is corrupt, not a crash")
    func corrupt() {
        let file = Synthetic.safetensors([("a", [4], [1, 2, 3, 4])])
        for broken in [Array(file.dropLast(3)), [UInt8](repeating: 0xFF, count: 64), [1, 2, 3], []] {
            let error = #expect(throws: InferenceError.self) { try SafeTensors.parse(broken, source: "t") }
            #expect(error?.kind == .corrupt)
        }
    }
}

@Suite struct DatasetReaderTests {
    static func idx(_ dimensions: [Int], _ values: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
        for dimension in dimensions {
            bytes += [
                UInt8(dimension >> 24 & 0xFF), UInt8(dimension >> 16 & 0xFF), UInt8(dimension >> 8 & 0xFF),
                UInt8(dimension & 0xFF),
            ]
        }
        return bytes + values
    }

    @Test("IDX headers give the dimensions; a size that disagrees with the data is corrupt")
    func idxFiles() throws {
        let file = try IDXFile(bytes: Self.idx([2, 2, 3], Array(0..<12)), source: "x")
        #expect(file.dimensions == [2, 2, 3])
        #expect(file.values == Array(0..<12))
        let error = #expect(throws: InferenceError.self) {
            try IDXFile(bytes: Self.idx([2, 2, 3], Array(0..<11)), source: "short.idx")
        }
        #expect(error?.message.contains("short.idx declares dimensions [2, 2, 3]") == true)
        #expect(throws: InferenceError.self) { try IDXFile(bytes: Array("hello".utf8), source: "x") }
    }

    @Test("NumPy headers give dtype and shape; other dtypes are refused when pixels are asked for")
    func npyArrays() throws {
        func npy(_ header: String, _ data: [UInt8]) -> [UInt8] {
            var text = header
            while (10 + text.utf8.count + 1) % 64 != 0 { text += " " }
            text += "\n"
            let length = text.utf8.count
            return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(text.utf8)
                + data
        }
        let array = try NumPyArray(
            npy: npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", Array(1...6)), source: "a.npy")
        #expect(array.shape == [2, 3])
        #expect(try array.bytes() == Array(1...6))

        let wide = try NumPyArray(
            npy: npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", Array(repeating: 0, count: 8)),
            source: "w.npy")
        #expect(throws: InferenceError.self) { try wide.bytes() }
        #expect(throws: InferenceError.self) {
            try NumPyArray(npy: npy("{'descr': '|u1', 'fortran_order': False, 'shape': (9,), }", [1]), source: "x")
        }
    }
}

@Suite struct ImageInputTests {
    /// A 28x28 grayscale PNG whose pixel (x, y) is (9x + 3y) mod 256, written by Python's zlib.
    static let gray28 =
        "iVBORw0KGgoAAAANSUhEUgAAABwAAAAcCAAAAABXZoBIAAAA0ElEQVR4nGNg4BSSVtE1s/cIjErOKa1rnzBz0eote4+dv/Hw1WcGZh5ROXUDSyfvkNi0/IrGrslzlq7bfuDkpdtP3n5jYOOXUNQytnH1C0/ILKpu6Z02f8XGXYfPXL33/MNPfKb+YcBj6n8GPKYyMeAxlZUBj6kcDHhM5WbAYyofAx5TBRnwmCrCgMdUcQY8pkox4DFVlgGPqQoMeExVZsBjqhoDHlM1GfCYqsOAx1R9BjymGjHgMdWUAY+pFgx4TLVmwGOqHQMeUx0Z8JjqAgA6/IwwwDOaYgAAAABJRU5ErkJggg=="
    /// The same pattern, 27 pixels wide.
    static let gray27 =
        "iVBORw0KGgoAAAANSUhEUgAAABsAAAAcCAAAAAC1upsxAAAAzUlEQVR4nGNg4BSSVtE1s/cIjErOKa1rnzBz0eote4+dv/HwFQMzj6icuoGlk3dIbFp+RWPX5DlL120/cPLS7SdvGdj4JRS1jG1c/cITMouqW3qnzV+xcdfhM1fvPf+Ax8jPDLiN/MaA28ifDLiN/MOA28j/DLiNZGLAbSQrA24jORhwG8nNgNtIPgbcRgoy4DZShAG3keIMuI2UYsBtpCwDbiMVGHAbqcyA20g1BtxGajLgNlKHAbeR+gy4jTRiwG2kKQNuIy0YcBtpDQAQ2oQu3XSgNgAAAABJRU5ErkJggg=="
    /// The same pattern at 16 bits per pixel, each level v stored as v · 257.
    static let gray16 =
        "iVBORw0KGgoAAAANSUhEUgAAABwAAAAcEAAAAAAH9lwLAAABO0lEQVR42p3OgWYCABQF0KssTSmlKaWUUkpTSilNKUVERESMiIiIiBgxIiIiIiIiIiIiIiIiIiIiIiIiIiJi+4d3vuAAeH8XCmUyjebz0273eILBSCQeTyYzmXy+WCyXa7Vms9Pp90ej6XSxWK93u+PxcrnfwWRyuR8fCoVOZzY7nT5fKBSNfn+nUtlsofD7W6nU661WtzsYjMez2XK52ez3p9P1+niAxeLzJRKVymCwWr++AoFwOBZLJNLpXO7np1SqVhuNdrvXGw4nk/l8tdpuD4fz+XZ7PonR1wu06N8faFEGA7To2xtoUTYbtCiHA1qUxwMtKhCAFhWJQIuKxaBFpVLQonI5aFGlErSoWg1aVKsFLarXgxY1GkGLmkygRS0W0KI2G2hRhwO0qMsFWtTtBi3q9YIW9fv/AapvGG4Iki2SAAAAAElFTkSuQmCC"
    static let pattern: [UInt8] = (0..<28).flatMap { y in (0..<28).map { x in UInt8((x * 9 + y * 3) % 256) } }

    static func batch(_ images: Any) throws(InferenceError) -> ImageBatch {
        let data = (try? JSONSerialization.data(withJSONObject: ["images": images])) ?? Data()
        return try ImageBatch(json: data)
    }

    @Test("a 16-bit PNG decodes to the same levels as the 8-bit one, not gamma-shifted ones")
    func sixteenBit() throws {
        let batch = try ImageBatch(json: Data("{\"images\": [\"\(Self.gray16)\"]}".utf8))
        #expect(batch.pixels == Self.pattern)
    }

    @Test("the compact images_base64 form carries raw pixels, and is refused when not whole images")
    func packed() throws {
        let batch = try ImageBatch(pixels: Self.pattern + Self.pattern)
        let decoded = try ImageBatch(json: Data(batch.packedJSON.utf8))
        #expect(decoded.count == 2 && decoded.pixels == batch.pixels)
        let error = #expect(throws: InferenceError.self) {
            try ImageBatch(
                json: Data("{\"images_base64\": \"\(Data(Self.pattern.dropLast()).base64EncodedString())\"}".utf8))
        }
        #expect(error?.message.contains("783 bytes of pixels are not whole 28x28 images") == true)
    }

    @Test("a base64 PNG decodes to its pixels, the same as the pixel array of that image")
    func pngAndPixelsAgree() throws {
        let rows = (0..<28).map { y in Array(Self.pattern[y * 28..<(y + 1) * 28]).map(Int.init) }
        let batch = try Self.batch([Self.gray28, rows, Self.pattern.map(Int.init)])
        #expect(batch.count == 3)
        #expect(Array(batch.pixels[0..<784]) == Self.pattern)
        #expect(Array(batch.pixels[784..<1568]) == Self.pattern)
        #expect(Array(batch.pixels[1568...]) == Self.pattern)
    }

    /// Each case is the JSON of the `images` array and a part of the message it must produce.
    static let badImages: [(String, String)] = [
        ("[]", "no images given"),
        (
            "[" + Array(repeating: "\"\(gray28)\"", count: 65).joined(separator: ",") + "]",
            "65 images given; at most 64"
        ),
        ("[\"\(gray27)\"]", "image 0: the PNG is 27x28"),
        ("[\"\"]", "image 0: the image is an empty string"),
        ("[\"aGVsbG8gd29ybGQ=\"]", "image 0: the data is not a PNG"),
        ("[\"\(gray28)\", \(zeros(783))]", "image 1: the image has 783 pixels"),
        ("[[" + Array(repeating: zeros(28), count: 27).joined(separator: ",") + "]]", "image 0: the image is 28x27"),
        ("[[256" + String(repeating: ",0", count: 783) + "]]", "image 0: pixel 0 (row 0, column 0) is 256"),
        ("[[1.5" + String(repeating: ",0", count: 783) + "]]", "image 0: pixel 0 (row 0, column 0) is 1.5"),
        ("[[1e300" + String(repeating: ",0", count: 783) + "]]", "image 0: pixel 0 (row 0, column 0) is 1e+300"),
        ("[[-1" + String(repeating: ",0", count: 783) + "]]", "image 0: pixel 0 (row 0, column 0) is -1"),
        ("[[true" + String(repeating: ",0", count: 783) + "]]", "image 0: pixel 0 (row 0, column 0) is"),
        ("[{\"not\": \"an image\"}]", "image 0: the image is neither"),
    ]

    static func zeros(_ count: Int) -> String {
        "[" + Array(repeating: "0", count: count).joined(separator: ",") + "]"
    }

    @Test("bad images are refused with a message naming the image and the problem", arguments: badImages)
    func refusesBadImages(images: String, expected: String) {
        let error = #expect(throws: InferenceError.self) {
            try ImageBatch(json: Data("{\"images\": \(images)}".utf8))
        }
        #expect(error?.kind == .invalidImage)
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error")")
    }

    @Test("a document that is not JSON, or has no images array, is refused")
    func refusesBadDocuments() {
        for document in ["not json", "[1, 2]", "{\"image\": []}"] {
            let error = #expect(throws: InferenceError.self) { try ImageBatch(json: Data(document.utf8)) }
            #expect(error?.message.contains("{\"images\": [...]}") == true)
        }
    }
}
