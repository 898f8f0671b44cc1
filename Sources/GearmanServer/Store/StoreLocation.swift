/// Where a job server keeps its background jobs.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    /// In memory only: gone with the process (gearmand's `-q builtin`).
    case memory
    /// One SQLite file (gearmand's `-q libsqlite3 --libsqlite3-db PATH`).
    case sqlite(path: String)

    /// `sqlite:PATH`, a bare path (SQLite too), or `memory`.
    public init?(_ text: String) {
        if text == "memory" || text == "builtin" {
            self = .memory
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
        }
    }

    var isDurable: Bool { self != .memory }
}
