import HTTPTypes

/// Header fields that describe one connection and are never relayed (RFC 9110, section 7.6.1), plus the
/// body's framing, which the proxy writes itself.
enum HopByHop {
    static let names = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "content-length", "expect",
    ]

    /// Whether `name` is one of `names`, in any case; compared in place, since it runs for every field relayed.
    static func contains(_ name: String) -> Bool {
        names.contains { HTTPHeaders.sameName($0, name) }
    }

    /// Whether a Connection option is `close`, `keep-alive` or one of `names`: options that name no field which
    /// would not be dropped anyway.
    static func isConnectionKeyword(_ option: ArraySlice<UInt8>) -> Bool {
        ASCII.equalIgnoringCase(option, "close") || contains(bytes: option)
    }

    /// Whether the field name `bytes` is one of `names`, in any case.
    static func contains(bytes: ArraySlice<UInt8>) -> Bool {
        names.contains { ASCII.equalIgnoringCase(bytes, $0) }
    }

    /// The fields of `fields` to relay: without hop-by-hop fields or those the `Connection` field names.
    static func relayed(_ fields: [HTTPHeaders.Field]) -> [HTTPHeaders.Field] {
        // The names Connection lists, lower-cased into a set: a head may list thousands, and each field is looked
        // up once, so the cost stays linear in the head's size.
        var named: Set<String> = []
        for field in fields where HTTPHeaders.sameName(field.name, "connection") {
            for option in field.value.utf8.split(separator: UInt8(ascii: ",")) {
                let trimmed = ASCII.trimmed(ArraySlice(option))
                if !isConnectionKeyword(trimmed) { named.insert(String(decoding: trimmed, as: UTF8.self).lowercased()) }
            }
        }
        return fields.filter { field in
            !contains(field.name) && (named.isEmpty || !named.contains(field.name.lowercased()))
        }
    }
}
