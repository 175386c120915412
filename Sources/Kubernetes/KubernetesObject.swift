/// A Kubernetes object kept as the JSON it arrived as, with typed access to the parts the stack uses.
///
/// Unknown fields: the typed structs in this module decode only the fields they name and drop the rest.
/// That is right for reading, but an object written back from a struct would lose whatever a newer client
/// sent. So whatever stores objects (the local cluster) keeps this wrapper: the raw JSON is the truth,
/// `decode` gives a typed view, and `update` lays the changed typed value over the raw JSON (see
/// `JSONValue.overlaying`), so fields the struct does not know are kept.
public struct KubernetesObject: Sendable, Hashable, Codable {
    /// The object exactly as stored.
    public var raw: JSONValue

    /// An object from its JSON.
    public init(raw: JSONValue) {
        self.raw = raw
    }

    /// An object from a typed value.
    ///
    /// - Throws: `KubernetesError` `.invalidJSON` when `value` cannot be encoded.
    public init<T: Encodable>(_ value: T) throws(KubernetesError) {
        self.raw = try JSONValue(encoding: value)
    }

    /// Decodes the raw JSON as-is.
    public init(from decoder: any Decoder) throws {
        raw = try JSONValue(from: decoder)
    }

    /// Encodes the raw JSON as-is.
    public func encode(to encoder: any Encoder) throws {
        try raw.encode(to: encoder)
    }

    /// The typed view.
    ///
    /// - Throws: `KubernetesError` `.invalidJSON` when the JSON does not fit `type`.
    public func decode<T: Decodable>(as type: T.Type) throws(KubernetesError) -> T {
        try raw.decode(as: type)
    }

    /// Reads the typed view, lets `change` modify it, and merges the result back.
    ///
    /// Fields the type names are replaced by their new values; fields it does not name are kept. A field the
    /// type names but `change` set to nil is left as stored, because the encoded typed value simply omits it;
    /// clear such a field with `applyMergePatch` and an explicit `null`.
    ///
    /// - Throws: `KubernetesError` when decoding or encoding fails, or whatever `change` throws.
    public mutating func update<T: Codable>(as type: T.Type, _ change: (inout T) throws -> Void) throws {
        var typed = try decode(as: type)
        try change(&typed)
        raw = raw.overlaying(try JSONValue(encoding: typed))
    }

    /// Applies a JSON merge patch to the raw object.
    public mutating func applyMergePatch(_ patch: JSONValue) {
        raw = raw.applyingMergePatch(patch)
    }

    /// `metadata`, decoded; an empty one when the object has none.
    public var metadata: ObjectMeta {
        (try? raw["metadata"]?.decode(as: ObjectMeta.self)) ?? ObjectMeta()
    }
}
