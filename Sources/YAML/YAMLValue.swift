/// A YAML node resolved to JSON-like values.
///
/// Mappings keep their keys in document order. Keys are strings: a scalar key keeps its text as written
/// (`yes:` is the key `"yes"`), which is what Kubernetes tooling does when it turns YAML into JSON.
public enum YAMLValue: Sendable, Equatable {
    /// One key and its value in a mapping.
    public struct Entry: Sendable, Equatable {
        /// The key's text.
        public var key: String
        /// The value.
        public var value: YAMLValue

        /// An entry from its key and value.
        public init(key: String, value: YAMLValue) {
            self.key = key
            self.value = value
        }
    }

    /// A mapping, in document order.
    case mapping([Entry])
    /// A sequence.
    case sequence([YAMLValue])
    /// A quoted scalar, or a plain one that resolves to nothing else.
    case string(String)
    /// A plain scalar in YAML 1.1 integer form (decimal, `0x`, `0b`, leading-zero octal, `1:30` sexagesimal).
    case int(Int64)
    /// A plain scalar in YAML 1.1 float form, including `.inf` and `.nan`.
    case double(Double)
    /// A plain scalar among YAML 1.1's booleans: `true`/`false`, `yes`/`no`, `on`/`off`, `y`/`n`.
    case bool(Bool)
    /// `null`, `~`, or nothing at all.
    case null

    /// The value for `key` when this is a mapping holding it, otherwise nil.
    public subscript(key: String) -> YAMLValue? {
        guard case .mapping(let entries) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// The element at `index` when this is a sequence long enough, otherwise nil.
    public subscript(index: Int) -> YAMLValue? {
        guard case .sequence(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }

    /// The string when this is a string, otherwise nil.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }
}
