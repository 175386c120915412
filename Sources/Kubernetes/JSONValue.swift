import Foundation

/// Any JSON value. The stack stores Kubernetes objects in this form so that fields its types do not name
/// survive a read, a change and a write (see `KubernetesObject`).
public enum JSONValue: Sendable, Hashable, Codable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number without fraction or exponent that fits 64 bits.
    case integer(Int64)
    /// Any other number.
    case double(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object; member order is not kept, as JSON gives it no meaning.
    case object([String: JSONValue])

    /// Decodes any JSON value.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Encodes the value as it is.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The member `key` when this is an object holding it.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// Parses JSON bytes.
    ///
    /// - Throws: `KubernetesError` `.invalidJSON`.
    public init(json data: Data) throws(KubernetesError) {
        do {
            self = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw KubernetesError(.invalidJSON, message: "the body is not valid JSON: \(error)")
        }
    }

    /// The value of an `Encodable`, as JSON would carry it.
    ///
    /// - Throws: `KubernetesError` `.invalidJSON` when the value cannot be encoded.
    public init<T: Encodable>(encoding value: T) throws(KubernetesError) {
        do {
            self = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
        } catch {
            throw KubernetesError(.invalidJSON, message: "\(T.self) could not be encoded as JSON: \(error)")
        }
    }

    /// This value decoded as `type`; fields `type` does not name are ignored.
    ///
    /// - Throws: `KubernetesError` `.invalidJSON` naming the type and the decoding error.
    public func decode<T: Decodable>(as type: T.Type) throws(KubernetesError) -> T {
        do {
            return try JSONDecoder().decode(type, from: jsonData())
        } catch {
            throw KubernetesError(.invalidJSON, message: "the object does not fit \(T.self): \(error)")
        }
    }

    /// JSON bytes, keys sorted so equal values give equal bytes.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// This value with a JSON merge patch (RFC 7386) applied, as `kubectl patch --type=merge` sends: objects
    /// merge member by member, `null` removes a member, anything else replaces.
    public func applyingMergePatch(_ patch: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var members: [String: JSONValue]
        if case .object(let existing) = self { members = existing } else { members = [:] }
        for (key, patchValue) in patchMembers {
            if patchValue == .null {
                members[key] = nil
            } else {
                members[key] = (members[key] ?? .null).applyingMergePatch(patchValue)
            }
        }
        return .object(members)
    }

    /// This value with `typed` laid over it: members of `typed` replace or merge into members here, members
    /// only here stay, and arrays of the same length merge element by element (so a container's unknown
    /// fields survive a change to its image). Arrays of another length, and scalars, are replaced.
    public func overlaying(_ typed: JSONValue) -> JSONValue {
        switch (self, typed) {
        case (.object(var members), .object(let typedMembers)):
            for (key, value) in typedMembers {
                members[key] = members[key].map { $0.overlaying(value) } ?? value
            }
            return .object(members)
        case (.array(let items), .array(let typedItems)) where items.count == typedItems.count:
            return .array(zip(items, typedItems).map { $0.overlaying($1) })
        default:
            return typed
        }
    }
}
