/// A Gearman server to measure: `host:port`, `host` (port 4730) or `[v6]:port`.
public struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
    public static let defaultPort = 4730

    public var host: String
    public var port: Int

    public init(host: String, port: Int = Self.defaultPort) {
        self.host = host
        self.port = port
    }

    public init?(parsing text: String) {
        var host = Substring(text)
        var port = Self.defaultPort
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let number = Int(rest.dropFirst()) else { return nil }
                port = number
            }
        } else if let colon = host.lastIndex(of: ":") {
            guard host.firstIndex(of: ":") == colon, let number = Int(host[host.index(after: colon)...]) else {
                return nil
            }
            port = number
            host = host[..<colon]
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
