import Digests

extension AuditEntry {
    /// The bytes the hash chain covers for this entry stored as row `id`.
    ///
    /// Each field is written as `name=LENGTH:VALUE\n`, in a fixed order, with integers in decimal and times in
    /// milliseconds since 1970. The length prefix makes the form unambiguous whatever a value holds (newlines,
    /// `=`, anything a client put in a path or a user agent), so two different rows never serialize alike.
    /// The row id is included, so renumbering a row breaks its hash.
    func canonicalBytes(id: Int64) -> [UInt8] {
        let fields: [(String, String)] = [
            ("id", String(id)),
            ("request_id", requestID),
            ("received_at_ms", String(Self.milliseconds(receivedAt))),
            ("completed_at_ms", String(Self.milliseconds(completedAt))),
            ("remote_address", remoteAddress),
            ("method", method),
            ("path", path),
            ("query", query),
            ("principal", principal),
            ("status", String(status)),
            ("response_bytes", String(responseBytes)),
            ("duration_us", String(durationMicroseconds)),
            ("user_agent", userAgent),
            ("tier", tier),
            ("namespace", namespace),
            ("kind", kind),
            ("name", name),
        ]
        var bytes: [UInt8] = []
        for (key, value) in fields {
            bytes += Array("\(key)=\(value.utf8.count):".utf8)
            bytes += Array(value.utf8)
            bytes.append(0x0A)
        }
        return bytes
    }

    /// The chain hash of this entry stored as row `id` after a row whose hash is `previousHash`: SHA-256 over
    /// the previous hash's 64 hexadecimal digits followed by the canonical form, in hexadecimal.
    func chainHash(id: Int64, previousHash: String) -> String {
        SHA256.hexDigest(Array(previousHash.utf8) + canonicalBytes(id: id))
    }
}
