/// One result row, read out of its statement so it can outlive it.
public struct SQLiteRow: Sendable, Equatable {
    /// The result column names, in order.
    public let columns: [String]
    /// The values, in column order.
    public let values: [SQLiteValue]

    /// A row from its columns and values.
    public init(columns: [String], values: [SQLiteValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value of column `index`.
    public subscript(index: Int) -> SQLiteValue { values[index] }

    /// The value of the column called `name`, or nil when there is no such column.
    public subscript(name: String) -> SQLiteValue? {
        columns.firstIndex(of: name).map { values[$0] }
    }

    /// The integer in column `name`.
    ///
    /// - Throws: `SQLiteError` `.typeMismatch` when the column is missing or holds something else.
    public func int64(_ name: String) throws(SQLiteError) -> Int64 {
        guard case .integer(let value) = try value(name) else { throw mismatch(name, expected: "an integer") }
        return value
    }

    /// The real in column `name`; an integer converts.
    ///
    /// - Throws: `SQLiteError` `.typeMismatch` when the column is missing or holds something else.
    public func double(_ name: String) throws(SQLiteError) -> Double {
        switch try value(name) {
        case .real(let value): return value
        case .integer(let value): return Double(value)
        default: throw mismatch(name, expected: "a real")
        }
    }

    /// The text in column `name`.
    ///
    /// - Throws: `SQLiteError` `.typeMismatch` when the column is missing or holds something else.
    public func string(_ name: String) throws(SQLiteError) -> String {
        guard case .text(let value) = try value(name) else { throw mismatch(name, expected: "text") }
        return value
    }

    /// The bytes in column `name`.
    ///
    /// - Throws: `SQLiteError` `.typeMismatch` when the column is missing or holds something else.
    public func blob(_ name: String) throws(SQLiteError) -> [UInt8] {
        guard case .blob(let value) = try value(name) else { throw mismatch(name, expected: "a blob") }
        return value
    }

    /// True when column `name` is `NULL`.
    ///
    /// - Throws: `SQLiteError` `.typeMismatch` when there is no such column.
    public func isNull(_ name: String) throws(SQLiteError) -> Bool {
        try value(name) == .null
    }

    private func value(_ name: String) throws(SQLiteError) -> SQLiteValue {
        guard let value = self[name] else {
            throw SQLiteError(
                .typeMismatch,
                message: "no column \(name) in the result; columns are \(columns.joined(separator: ", "))")
        }
        return value
    }

    private func mismatch(_ name: String, expected: String) -> SQLiteError {
        SQLiteError(
            .typeMismatch, message: "column \(name) holds \(self[name].map { "\($0)" } ?? "nothing"), not \(expected)")
    }
}
