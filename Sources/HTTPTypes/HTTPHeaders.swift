/// HTTP header fields in the order they were given, looked up by name without regard to case.
///
/// Repeated names are kept as separate fields, the way they travel on the wire.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// One header field.
    public struct Field: Sendable, Equatable {
        /// The name as it was written.
        public var name: String
        /// The value, without surrounding whitespace.
        public var value: String

        /// A field from its name and value.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The fields, in order.
    public private(set) var fields: [Field]

    /// Headers holding `fields`.
    public init(_ fields: [Field] = []) {
        self.fields = fields
    }

    /// Headers from a literal such as `["Content-Type": "application/json"]`.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.fields = elements.map { Field(name: $0.0, value: $0.1) }
    }

    /// The value of the first field called `name` (any case), or nil; setting replaces every field of that name
    /// and setting nil removes them.
    public subscript(name: String) -> String? {
        get { fields.first { Self.sameName($0.name, name) }?.value }
        set {
            guard let newValue else {
                remove(name)
                return
            }
            // No field before the first match shares the name, so its position survives the removal.
            let position = fields.firstIndex { Self.sameName($0.name, name) } ?? fields.endIndex
            fields.removeAll { Self.sameName($0.name, name) }
            fields.insert(Field(name: name, value: newValue), at: position)
        }
    }

    /// Every value of the fields called `name`, in order.
    public func values(for name: String) -> [String] {
        fields.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    /// Adds a field, keeping any others with the same name.
    public mutating func add(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Removes every field called `name`.
    public mutating func remove(_ name: String) {
        fields.removeAll { Self.sameName($0.name, name) }
    }

    /// True when there are no fields.
    public var isEmpty: Bool { fields.isEmpty }

    /// Iterates the fields in order.
    public func makeIterator() -> IndexingIterator<[Field]> {
        fields.makeIterator()
    }

    /// Whether two field names are equal ignoring ASCII case (field names are ASCII tokens, RFC 9110 section 5.1).
    public static func sameName(_ lhs: String, _ rhs: String) -> Bool {
        var left = lhs
        var right = rhs
        guard left.utf8.count == right.utf8.count else { return false }
        return left.withUTF8 { left in
            right.withUTF8 { right in
                for index in 0..<left.count where left[index] != right[index] {
                    // Setting bit 5 lowercases an ASCII letter; only letters may differ in that bit alone.
                    let lowered = left[index] | 0x20
                    guard lowered == right[index] | 0x20, lowered >= UInt8(ascii: "a"), lowered <= UInt8(ascii: "z")
                    else { return false }
                }
                return true
            }
        }
    }
}
