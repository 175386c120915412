import Foundation
import Kubernetes

extension JSONValue {
    /// The string, when this is one.
    var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The integer, when this is one (a whole `double` converts).
    var integerValue: Int64? {
        switch self {
        case .integer(let value): return value
        case .double(let value) where value == value.rounded(): return Int64(exactly: value)
        default: return nil
        }
    }

    /// This value decoded as `type`, written with `JSONCodec` rather than a `Codable` round trip.
    ///
    /// - Throws: `DecodingError` when the JSON does not fit `type`.
    func decoded<T: Decodable>(as type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(JSONCodec.serialize(self)))
    }

    /// The members, when this is an object.
    var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The elements, when this is an array.
    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// The value at a dotted path such as `involvedObject.name`, or nil when any step is missing.
    func value(atPath path: String) -> JSONValue? {
        var current: JSONValue? = self
        for key in path.split(separator: ".") {
            current = current?[String(key)]
        }
        return current
    }

    /// Sets (or, with nil, removes) member `key`; a non-object becomes an object first.
    mutating func set(_ key: String, _ value: JSONValue?) {
        var members = objectValue ?? [:]
        members[key] = value
        self = .object(members)
    }

    /// Changes member `key` in place, creating it as an empty object when missing.
    mutating func modify(_ key: String, _ change: (inout JSONValue) -> Void) {
        var member = self[key] ?? .object([:])
        change(&member)
        set(key, member)
    }

    /// Sets `metadata.KEY`.
    mutating func setMetadata(_ key: String, _ value: JSONValue?) {
        modify("metadata") { $0.set(key, value) }
    }

    /// A string-to-string map such as labels, when this is an object of strings.
    var stringMap: [String: String]? {
        guard let members = objectValue else { return nil }
        return members.compactMapValues(\.stringValue)
    }

    /// An object of strings.
    init(stringMap: [String: String]) {
        self = .object(stringMap.mapValues { .string($0) })
    }
}

extension KubernetesObject {
    /// The typed view, decoded through `JSONCodec`.
    func decoded<T: Decodable>(as type: T.Type) throws -> T {
        try raw.decoded(as: type)
    }

    /// `metadata.name`, or an empty string.
    var name: String { raw.value(atPath: "metadata.name")?.stringValue ?? "" }
    /// `metadata.namespace`, or an empty string for cluster-scoped objects.
    var namespace: String { raw.value(atPath: "metadata.namespace")?.stringValue ?? "" }
    /// `metadata.uid`, or an empty string before the object is stored.
    var uid: String { raw.value(atPath: "metadata.uid")?.stringValue ?? "" }
    /// `metadata.labels`.
    var labels: [String: String] { raw.value(atPath: "metadata.labels")?.stringMap ?? [:] }
    /// `metadata.resourceVersion` as a number, or 0.
    var resourceVersion: Int64 {
        raw.value(atPath: "metadata.resourceVersion")?.stringValue.flatMap { Int64($0) } ?? 0
    }
    /// The uid of the controlling owner (a pod's Job), from `metadata.ownerReferences`.
    var controllerUID: String? {
        let owners = raw.value(atPath: "metadata.ownerReferences")?.arrayValue ?? []
        let controller = owners.first { $0["controller"] == .bool(true) } ?? owners.first
        return controller?["uid"]?.stringValue
    }
}
