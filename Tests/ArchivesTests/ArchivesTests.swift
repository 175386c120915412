import Testing

@testable import Archives

/// Fixtures made by Python's gzip and zipfile modules, so the reader is checked against another implementation.
enum Fixtures {
    /// `gzip.compress(b"hello, tierserve\n" * 3, mtime=0)`.
    static let gzip: [UInt8] = [
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 72, 205, 201, 201, 215, 81, 40, 201, 76, 45, 42, 78, 45, 42, 75, 229,
        202, 32, 40, 0, 0, 139, 76, 82, 190, 51, 0, 0, 0,
    ]

    /// A zip with `stored.txt` ("plain bytes", stored) and `deflated.txt` ("abc" * 35, deflated).
    static let zip: [UInt8] = bytes(
        fromHex: "504b030414000000000000002100cbaf5c710b0000000b0000000a00000073746f7265642e747874706c61696e206279"
            + "746573504b030414000000080000002100afb962fb08000000690000000c0000006465666c617465642e7478744b4c4a4e"
            + "a40b0200504b0102140314000000000000002100cbaf5c710b0000000b0000000a000000000000000000000080010000"
            + "000073746f7265642e747874504b0102140314000000080000002100afb962fb08000000690000000c00000000000000"
            + "000000008001330000006465666c617465642e747874504b0506000000000200020072000000650000000000")

    static func bytes(fromHex hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return result
    }
}

@Suite struct GzipTests {
    @Test("decompresses what Python's gzip wrote")
    func roundTrip() throws {
        let text = String(decoding: try Gzip.decompress(Fixtures.gzip), as: UTF8.self)
        #expect(text == String(repeating: "hello, tierserve\n", count: 3))
    }

    @Test("two gzip members back to back decompress to both contents")
    func multipleMembers() throws {
        let once = try Gzip.decompress(Fixtures.gzip)
        #expect(try Gzip.decompress(Fixtures.gzip + Fixtures.gzip) == once + once)
    }

    @Test("zero padding after the last member is ignored, as gzip ignores it")
    func trailingZeros() throws {
        #expect(try Gzip.decompress(Fixtures.gzip + [0, 0, 0, 0]) == (try Gzip.decompress(Fixtures.gzip)))
    }

    @Test("data that decompresses beyond the limit is refused before it is all inflated")
    func sizeLimit() {
        let error = #expect(throws: ArchiveError.self) { try Gzip.decompress(Fixtures.gzip, limit: 20) }
        #expect(error?.reason == "gzip data decompresses to more than 20 bytes, the limit")
    }

    @Test("two bytes of gzip magic and nothing else is cut short, not \"not gzip\"")
    func magicOnly() {
        let error = #expect(throws: ArchiveError.self) { try Gzip.decompress([0x1f, 0x8b, 8, 0]) }
        #expect(error?.kind == .truncated)
    }

    @Test("data without the gzip magic is refused as malformed")
    func notGzip() {
        let error = #expect(throws: ArchiveError.self) { try Gzip.decompress(Array("not gzip at all, plainly".utf8)) }
        #expect(error?.kind == .malformed)
    }

    @Test("a cut-short stream is refused, naming where its member starts")
    func truncated() {
        let error = #expect(throws: ArchiveError.self) { try Gzip.decompress(Array(Fixtures.gzip.prefix(24))) }
        #expect(error?.kind == .malformed)
        #expect(error?.reason == "gzip member at byte 0 is corrupt or cut short")
    }

    @Test("a flipped byte in the deflate data is caught")
    func corrupt() {
        var bytes = Fixtures.gzip
        bytes[12] ^= 0xFF
        #expect(throws: ArchiveError.self) { try Gzip.decompress(bytes) }
    }
}

@Suite struct ZipArchiveTests {
    @Test("lists entries and reads stored and deflated data")
    func readsEntries() throws {
        let archive = try ZipArchive(bytes: Fixtures.zip)
        #expect(archive.entries.map(\.name) == ["stored.txt", "deflated.txt"])
        #expect(String(decoding: try archive.contents(of: "stored.txt"), as: UTF8.self) == "plain bytes")
        let deflated = String(decoding: try archive.contents(of: "deflated.txt"), as: UTF8.self)
        #expect(deflated == String(repeating: "abc", count: 35))
    }

    @Test("a missing entry names what the archive does have")
    func missingEntry() throws {
        let archive = try ZipArchive(bytes: Fixtures.zip)
        let error = #expect(throws: ArchiveError.self) { try archive.contents(of: "arr_0.npy") }
        #expect(error?.kind == .missingEntry("arr_0.npy"))
        #expect(error?.reason.contains("stored.txt, deflated.txt") == true)
    }

    @Test("a corrupted stored entry fails its CRC-32 check")
    func crcMismatch() throws {
        var bytes = Fixtures.zip
        bytes[40] ^= 0x01  // Inside "plain bytes".
        let archive = try ZipArchive(bytes: bytes)
        #expect(throws: ArchiveError.self) { try archive.contents(of: "stored.txt") }
    }

    @Test("bytes that are not a zip are refused")
    func notZip() {
        #expect(throws: ArchiveError.self) { try ZipArchive(bytes: Array(repeating: 7, count: 100)) }
        #expect(throws: ArchiveError.self) { try ZipArchive(bytes: []) }
    }
}
