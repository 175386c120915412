import Kubernetes

/// Just enough protobuf to read what kubectl sends that way: its typed clients post built-in kinds as
/// `application/vnd.kubernetes.protobuf`, a `k8s\0` prefix and a `runtime.Unknown` envelope around the
/// object's own protobuf encoding. `kubectl auth can-i` posts a SelfSubjectAccessReview like this, so that
/// kind is decoded (into its JSON shape); any other kind is refused with 415 and a hint to send JSON.
enum ProtobufDecoding {
    /// The JSON form of a protobuf-encoded request body.
    ///
    /// - Throws: `Status` UnsupportedMediaType for a kind not decoded here, BadRequest for malformed bytes.
    static func json(fromKubernetesProtobuf bytes: [UInt8]) throws(Status) -> JSONValue {
        let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]
        guard bytes.count > 4, Array(bytes.prefix(4)) == magic else {
            throw Status.badRequest("the protobuf body does not start with the Kubernetes envelope prefix")
        }
        let envelope = try fields(Array(bytes.dropFirst(4)))
        let typeMeta = try fields(envelope[1]?.first ?? [])
        let apiVersion = text(typeMeta[1])
        let kind = text(typeMeta[2])
        guard kind == "SelfSubjectAccessReview", let raw = envelope[2]?.first else {
            throw Status(
                code: 415, reason: "UnsupportedMediaType",
                message: "the local cluster reads protobuf only for SelfSubjectAccessReview, not \(kind); send JSON")
        }
        let review = try fields(raw)
        let spec = try fields(review[2]?.first ?? [])
        var result: [String: JSONValue] = ["apiVersion": .string(apiVersion), "kind": .string(kind)]
        var specJSON: [String: JSONValue] = [:]
        if let attributesBytes = spec[1]?.first {
            let attributes = try fields(attributesBytes)
            let names = [
                1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource", 6: "subresource", 7: "name",
            ]
            specJSON["resourceAttributes"] = .object(
                names.reduce(into: [:]) { $0[$1.value] = .string(text(attributes[$1.key])) })
        }
        if let nonResourceBytes = spec[2]?.first {
            let attributes = try fields(nonResourceBytes)
            specJSON["nonResourceAttributes"] = .object([
                "path": .string(text(attributes[1])), "verb": .string(text(attributes[2])),
            ])
        }
        result["spec"] = .object(specJSON)
        return .object(result)
    }

    private static func text(_ values: [[UInt8]]?) -> String {
        String(decoding: values?.first ?? [], as: UTF8.self)
    }

    /// The length-delimited fields of a message by number (varint and fixed fields are skipped).
    private static func fields(_ bytes: [UInt8]) throws(Status) -> [Int: [[UInt8]]] {
        var result: [Int: [[UInt8]]] = [:]
        var index = 0
        func varint() throws(Status) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
                if shift > 63 { break }
            }
            throw Status.badRequest("the protobuf body is truncated or malformed")
        }
        while index < bytes.count {
            let key = try varint()
            let number = Int(key >> 3)
            switch key & 7 {
            case 0: _ = try varint()
            case 1: index += 8
            case 5: index += 4
            case 2:
                let length = Int(try varint())
                guard length >= 0, index + length <= bytes.count else {
                    throw Status.badRequest("the protobuf body is truncated or malformed")
                }
                result[number, default: []].append(Array(bytes[index..<(index + length)]))
                index += length
            default:
                throw Status.badRequest("the protobuf body uses an unknown wire type")
            }
        }
        return result
    }
}
