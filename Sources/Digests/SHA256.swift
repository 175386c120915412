import COpenSSL

/// SHA-256 digests, computed by OpenSSL.
public enum SHA256 {
    /// The 32-byte SHA-256 digest of `bytes`.
    public static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let succeeded = bytes.withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &output, &length, EVP_sha256(), nil) == 1
        }
        // EVP_Digest with a built-in algorithm fails only when allocation fails.
        precondition(succeeded && length == 32, "OpenSSL could not compute SHA-256")
        return Array(output.prefix(32))
    }

    /// The SHA-256 digest of `bytes` as 64 lower-case hexadecimal digits.
    public static func hexDigest(_ bytes: [UInt8]) -> String {
        hex(digest(bytes))
    }

    /// The SHA-256 digest of the UTF-8 bytes of `text`, in hexadecimal.
    public static func hexDigest(_ text: String) -> String {
        hexDigest(Array(text.utf8))
    }

    /// `bytes` as lower-case hexadecimal digits.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits: [Character] = Array("0123456789abcdef")
        var result = ""
        result.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            result.append(digits[Int(byte >> 4)])
            result.append(digits[Int(byte & 0x0F)])
        }
        return result
    }
}
