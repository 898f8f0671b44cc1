/// Where a PostgreSQL store lives, from `postgres://user:password@host:port/database?sslmode=MODE` or from a
/// libpq connection string (`host=... port=... dbname=... user=... password=... sslmode=...`, gearmand's
/// `--libpq-conninfo`).
public struct PostgresStoreAddress: Sendable, Hashable, CustomStringConvertible {
    /// libpq's `sslmode`, the values that mean something here.
    public enum TLSMode: String, Sendable, Hashable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, unverified; plain TCP otherwise.
        case prefer
        /// TLS or no connection, the server's certificate not verified (libpq's meaning).
        case require
        /// TLS, the certificate verified against the system's trust roots and the host name.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public init(
        host: String = "localhost", port: Int = 5432, user: String, password: String? = nil, database: String,
        tls: TLSMode = .disable
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// `postgres://` or `postgresql://`; user, password and database may be percent-encoded. Without a
    /// database the user's name is taken, as libpq does. The only query parameter is `sslmode`: any other
    /// is refused rather than ignored.
    public init?(url: String) {
        guard let schemeEnd = url.range(of: "://"),
            ["postgres", "postgresql"].contains(url[..<schemeEnd.lowerBound].lowercased())
        else { return nil }
        var rest = Substring(url[schemeEnd.upperBound...])
        var tls = TLSMode.disable
        if let query = rest.firstIndex(of: "?") {
            for parameter in rest[rest.index(after: query)...].split(separator: "&") {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, pair[0] == "sslmode", let mode = TLSMode(rawValue: String(pair[1])) else {
                    return nil
                }
                tls = mode
            }
            rest = rest[..<query]
        }
        var path = Substring("")
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var credentials: Substring?
        if let at = rest.lastIndex(of: "@") {
            credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        var user = ""
        var password: String?
        if let credentials {
            let parts = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.percentDecoded(parts[0]) else { return nil }
            user = name
            if parts.count == 2 {
                guard let secret = Self.percentDecoded(parts[1]) else { return nil }
                password = secret
            }
        }
        guard !user.isEmpty, let (host, port) = Self.hostAndPort(rest), let database = Self.percentDecoded(path) else {
            return nil
        }
        self.init(
            host: host, port: port, user: user, password: password, database: database.isEmpty ? user : database,
            tls: tls)
    }

    /// A libpq connection string: `key=value` pairs apart by spaces, values optionally in single quotes
    /// with `\'` and `\\` escapes. Keys other than host, port, dbname, user and password are refused.
    public init?(connectionString: String) {
        var values: [String: String] = [:]
        var characters = Substring(connectionString)
        func skipSpaces() { characters = characters.drop { $0 == " " || $0 == "\t" || $0 == "\n" } }
        skipSpaces()
        while !characters.isEmpty {
            guard let equals = characters.firstIndex(of: "=") else { return nil }
            let key = characters[..<equals].trimmingSpaces
            characters = characters[characters.index(after: equals)...]
            skipSpaces()
            var value = ""
            if characters.first == "'" {
                characters = characters.dropFirst()
                var closed = false
                while let character = characters.popFirst() {
                    if character == "\\", let escaped = characters.popFirst() {
                        value.append(escaped)
                    } else if character == "'" {
                        closed = true
                        break
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { return nil }
            } else {
                let end = characters.firstIndex { $0 == " " || $0 == "\t" || $0 == "\n" } ?? characters.endIndex
                value = String(characters[..<end])
                characters = characters[end...]
            }
            guard ["host", "hostaddr", "port", "dbname", "user", "password", "sslmode"].contains(key) else {
                return nil
            }
            values[key] = value
            skipSpaces()
        }
        guard let user = values["user"], !user.isEmpty else { return nil }
        var port = 5432
        if let text = values["port"] {
            guard let number = Int(text), (1...65535).contains(number) else { return nil }
            port = number
        }
        guard let tls = TLSMode(rawValue: values["sslmode"] ?? "disable") else { return nil }
        self.init(
            host: values["hostaddr"] ?? values["host"] ?? "localhost", port: port, user: user,
            password: values["password"], database: values["dbname"] ?? user, tls: tls)
    }

    /// The URL, with the password left out: it goes into logs and admin replies.
    public var description: String {
        let secret = password == nil ? "" : ":***"
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let query = tls == .disable ? "" : "?sslmode=\(tls.rawValue)"
        return "postgres://\(user)\(secret)@\(hostPart):\(port)/\(database)\(query)"
    }

    private static func hostAndPort(_ text: Substring) -> (String, Int)? {
        var host = text
        var portText: Substring?
        if host.first == "[" {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if after.first == ":" { portText = after.dropFirst() } else if !after.isEmpty { return nil }
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        var port = 5432
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else { return nil }
            port = number
        }
        return (host.isEmpty ? "localhost" : String(host), port)
    }

    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(value)
            utf8 = utf8.dropFirst(2)
        }
        return String(validating: bytes, as: UTF8.self)
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
