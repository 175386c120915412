import CSQLite

/// A prepared statement; owns its `sqlite3_stmt` and finalizes it.
///
/// A statement belongs to the connection that prepared it and, like the connection, is used by one
/// thread at a time (it is not `Sendable`). It keeps the connection alive.
public final class SQLiteStatement {
    /// The SQL it was prepared from.
    public let sql: String
    private let handle: OpaquePointer
    private let connection: SQLiteConnection

    init(sql: String, connection: SQLiteConnection) throws(SQLiteError) {
        var prepared: OpaquePointer?
        let result = sqlite3_prepare_v2(connection.handle, sql, -1, &prepared, nil)
        guard result == SQLITE_OK, let prepared else {
            sqlite3_finalize(prepared)
            throw SQLiteError(resultCode: result, connection: connection.handle, sql: sql)
        }
        self.sql = sql
        self.handle = prepared
        self.connection = connection
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Resets the statement and binds `values` to its parameters `?1...?N` in order.
    ///
    /// - Throws: `SQLiteError` `.misuse` when there are more values than parameters.
    public func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        let expected = Int(sqlite3_bind_parameter_count(handle))
        guard values.count <= expected else {
            throw SQLiteError(
                .misuse, message: "\(values.count) values given for \(expected) parameters", sql: sql)
        }
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let result: Int32
            switch value {
            case .integer(let integer):
                result = sqlite3_bind_int64(handle, index, integer)
            case .real(let real):
                result = sqlite3_bind_double(handle, index, real)
            case .text(let text):
                result = tierserve_sqlite3_bind_text_copy(handle, index, text, Int32(text.utf8.count))
            case .blob(let bytes) where bytes.isEmpty:
                // An empty array has no base address, and a NULL pointer would bind NULL, not an empty blob.
                result = sqlite3_bind_zeroblob(handle, index, 0)
            case .blob(let bytes):
                result = bytes.withUnsafeBytes { buffer in
                    tierserve_sqlite3_bind_blob_copy(handle, index, buffer.baseAddress, Int32(buffer.count))
                }
            case .null:
                result = sqlite3_bind_null(handle, index)
            }
            guard result == SQLITE_OK else {
                throw SQLiteError(resultCode: result, connection: connection.handle, sql: sql)
            }
        }
    }

    /// Advances to the next row.
    ///
    /// - Returns: true when a row is ready to read, false when the statement is done.
    /// - Throws: `SQLiteError` for a constraint violation, a busy database, and so on.
    public func step() throws(SQLiteError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW:
            return true
        case SQLITE_DONE:
            return false
        case let result:
            let error = SQLiteError(resultCode: result, connection: connection.handle, sql: sql)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// The number of result columns.
    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    /// The name of result column `index`.
    public func columnName(at index: Int) -> String {
        sqlite3_column_name(handle, Int32(index)).map { String(cString: $0) } ?? ""
    }

    /// The value of column `index` of the current row, in its storage class.
    public func value(at index: Int) -> SQLiteValue {
        let column = Int32(index)
        switch sqlite3_column_type(handle, column) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(handle, column))
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard let text = sqlite3_column_text(handle, column) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard let bytes = sqlite3_column_blob(handle, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .null
        }
    }

    /// The current row, copied out.
    public func row() -> SQLiteRow {
        let count = columnCount
        return SQLiteRow(columns: (0..<count).map(columnName(at:)), values: (0..<count).map(value(at:)))
    }

    /// Binds `values`, steps to the end, and returns every row.
    ///
    /// - Throws: `SQLiteError` from binding or stepping.
    public func rows(_ values: [SQLiteValue] = []) throws(SQLiteError) -> [SQLiteRow] {
        try bind(values)
        var rows: [SQLiteRow] = []
        while try step() {
            rows.append(row())
        }
        return rows
    }
}
