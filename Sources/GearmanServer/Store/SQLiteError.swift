import CSQLite

/// A failed SQLite call: its result code and SQLite's own words for it.
struct SQLiteError: Error, CustomStringConvertible {
    let code: Int32
    let message: String

    var description: String { message }

    /// The database file is held by another process (`locking_mode=EXCLUSIVE`).
    var isBusy: Bool { code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED }
}
