import HTTPTypes

/// Status lines as bytes, made once per code.
enum StatusLine {
    private static let common: [Int: [UInt8]] = Dictionary(
        uniqueKeysWithValues: (100..<600).compactMap { code in
            let status = HTTPStatus(code: code)
            return status.reasonPhrase.isEmpty ? nil : (code, line(status))
        })

    /// `HTTP/1.1 <code> <reason>` and CRLF.
    static func bytes(_ status: HTTPStatus) -> [UInt8] {
        common[status.code] ?? line(status)
    }

    private static func line(_ status: HTTPStatus) -> [UInt8] {
        Array("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n".utf8)
    }
}
