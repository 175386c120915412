/// Byte-level helpers for the ASCII tokens of HTTP heads.
enum ASCII {
    /// Whether `bytes` spell `text` ignoring ASCII case.
    static func equalIgnoringCase(_ bytes: ArraySlice<UInt8>, _ text: String) -> Bool {
        var text = text
        return text.withUTF8 { expected in
            guard expected.count == bytes.count else { return false }
            var index = bytes.startIndex
            for byte in expected {
                let actual = bytes[index]
                if actual != byte {
                    let lowered = actual | 0x20
                    guard lowered == byte | 0x20, lowered >= UInt8(ascii: "a"), lowered <= UInt8(ascii: "z") else {
                        return false
                    }
                }
                index += 1
            }
            return true
        }
    }

    /// Whether two byte strings are equal ignoring ASCII case.
    static func equalIgnoringCase(_ lhs: ArraySlice<UInt8>, _ rhs: ArraySlice<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (actual, expected) in zip(lhs, rhs) where actual != expected {
            let lowered = actual | 0x20
            guard lowered == expected | 0x20, lowered >= UInt8(ascii: "a"), lowered <= UInt8(ascii: "z") else {
                return false
            }
        }
        return true
    }

    /// Whether `byte` may appear in a token such as a field name: letters, digits and ``!#$%&'*+-.^_`|~``.
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            tokenPunctuation.contains(byte)
        }
    }

    private static let tokenPunctuation = Array("!#$%&'*+-.^_`|~".utf8)

    /// `bytes` with ASCII letters lower-cased.
    static func lowercased(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        bytes.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 | 0x20 : $0 }
    }

    /// `bytes` without the spaces and tabs around it.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let blank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) })
        else { return bytes[bytes.startIndex..<bytes.startIndex] }
        return bytes[first...last]
    }
}
