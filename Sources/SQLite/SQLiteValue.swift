/// A value SQLite stores: one of its five storage classes.
public enum SQLiteValue: Sendable, Equatable, Hashable {
    /// A 64-bit signed integer.
    case integer(Int64)
    /// A 64-bit float.
    case real(Double)
    /// UTF-8 text.
    case text(String)
    /// Bytes.
    case blob([UInt8])
    /// `NULL`.
    case null
}

extension SQLiteValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByNilLiteral
{
    /// An integer from a literal.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// A real from a literal.
    public init(floatLiteral value: Double) { self = .real(value) }
    /// Text from a literal.
    public init(stringLiteral value: String) { self = .text(value) }
    /// `NULL` from `nil`.
    public init(nilLiteral: ()) { self = .null }
}

extension SQLiteValue {
    /// `.integer(value)`.
    public init(_ value: Int) { self = .integer(Int64(value)) }
    /// `.text(value)`, or `.null` for nil.
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
}
