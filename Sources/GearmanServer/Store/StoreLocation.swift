/// Where a job server keeps its background jobs.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    /// In memory only: gone with the process (gearmand's `-q builtin`).
    case memory
    /// One SQLite file (gearmand's `-q libsqlite3 --libsqlite3-db PATH`).
    case sqlite(path: String)
    /// A PostgreSQL database, which several servers may share (gearmand's `-q Postgres --libpq-conninfo`).
    case postgres(PostgresStoreAddress)

    /// `sqlite:PATH`, a bare path (SQLite too), `postgres://user:password@host:port/database`, or `memory`.
    public init?(_ text: String) {
        if text == "memory" || text == "builtin" {
            self = .memory
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            guard let address = PostgresStoreAddress(url: text) else { return nil }
            self = .postgres(address)
        } else if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { return nil }
            self = .sqlite(path: path)
        } else if !text.isEmpty, !text.contains("://") {
            self = .sqlite(path: text)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .memory: "memory"
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let address): "\(address)"
        }
    }

    var isDurable: Bool { self != .memory }

    /// Whether several servers may share it, each taking over the jobs of those that die.
    public var isShared: Bool {
        if case .postgres = self { return true }
        return false
    }
}
