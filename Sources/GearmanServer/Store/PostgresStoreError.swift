/// A PostgreSQL store's failure, in words for the log and the client's QUEUE_ERROR.
struct PostgresStoreError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
