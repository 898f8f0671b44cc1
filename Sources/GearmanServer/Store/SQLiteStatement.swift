import CSQLite
import NIOCore

/// A prepared statement, reused: bind, step, reset. Belongs to its database's thread.
final class SQLiteStatement {
    private let database: SQLiteDatabase
    private let statement: OpaquePointer

    init(database: SQLiteDatabase, statement: OpaquePointer) {
        self.database = database
        self.statement = statement
    }

    deinit {
        sqlite3_finalize(statement)
    }

    /// Copies the bytes (SQLITE_TRANSIENT). Empty bytes are an empty blob, never NULL.
    func bind(_ bytes: ByteBuffer, at index: Int32) throws {
        let result: Int32
        if bytes.readableBytes == 0 {
            result = sqlite3_bind_zeroblob(statement, index, 0)
        } else {
            result = bytes.withUnsafeReadableBytes { raw in
                sqlite3_bind_blob64(
                    statement, index, raw.baseAddress, sqlite3_uint64(raw.count), Self.transient)
            }
        }
        try check(result)
    }

    func bind(_ value: Int64, at index: Int32) throws {
        try check(sqlite3_bind_int64(statement, index, value))
    }

    func bindNull(at index: Int32) throws {
        try check(sqlite3_bind_null(statement, index))
    }

    func bind(_ text: String, at index: Int32) throws {
        try check(sqlite3_bind_text(statement, index, text, -1, Self.transient))
    }

    /// True when a row is ready to read, false when the statement is done.
    @discardableResult
    func step() throws -> Bool {
        let result = sqlite3_step(statement)
        switch result {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw database.error(result)
        }
    }

    /// Steps to completion and makes the statement ready for new bindings.
    func run() throws {
        defer { reset() }
        while try step() {}
    }

    func reset() {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    // MARK: Columns

    enum ColumnType {
        case integer, float, text, blob, null
    }

    func type(_ column: Int32) -> ColumnType {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: .integer
        case SQLITE_FLOAT: .float
        case SQLITE_TEXT: .text
        case SQLITE_BLOB: .blob
        default: .null
        }
    }

    func isNull(_ column: Int32) -> Bool { type(column) == .null }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

    /// The column as text, invalid UTF-8 repaired.
    func string(_ column: Int32) -> String {
        var bytes = ByteBuffer()
        appendBytes(column, to: &bytes)
        return String(buffer: bytes)
    }

    /// The column's bytes (a blob's, or a text's UTF-8), appended to `buffer`; returns how many.
    @discardableResult
    func appendBytes(_ column: Int32, to buffer: inout ByteBuffer) -> Int {
        let count: Int
        let pointer: UnsafeRawPointer?
        if type(column) == .text {
            pointer = sqlite3_column_text(statement, column).map { UnsafeRawPointer($0) }
        } else {
            pointer = sqlite3_column_blob(statement, column)
        }
        count = Int(sqlite3_column_bytes(statement, column))
        guard let pointer, count > 0 else { return 0 }
        buffer.writeBytes(UnsafeRawBufferPointer(start: pointer, count: count))
        return count
    }

    func byteCount(_ column: Int32) -> Int { Int(sqlite3_column_bytes(statement, column)) }

    private func check(_ result: Int32) throws {
        guard result == SQLITE_OK else { throw database.error(result) }
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
