import NIOCore

/// A range of IPv4 or IPv6 addresses written as CIDR (`10.0.0.0/8`, `fd00::/8`) or one address
/// (`192.0.2.7`, `::1`). An IPv4 network also matches IPv4-mapped IPv6 addresses (`::ffff:10.1.2.3`).
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The network's address bytes: 4 for IPv4, 16 for IPv6.
    public let address: [UInt8]
    /// Leading bits that must match.
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = Self.bytes(of: String(parts[0])) else { return nil }
        let bits = bytes.count * 8
        var length = bits
        if parts.count == 2 {
            guard parts[1].count <= 3, let parsed = Int(parts[1]), (0...bits).contains(parsed) else { return nil }
            length = parsed
        }
        address = Self.masked(bytes, to: length)
        prefixLength = length
    }

    public var description: String {
        let text: String
        if address.count == 4 {
            text = address.map(String.init).joined(separator: ".")
        } else {
            text = stride(from: 0, to: 16, by: 2).map {
                String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16)
            }.joined(separator: ":")
        }
        return "\(text)/\(prefixLength)"
    }

    /// 127.0.0.0/8 and ::1, where a local operator's commands come from.
    public static let loopback: [IPNetwork] = [IPNetwork("127.0.0.0/8")!, IPNetwork("::1")!]

    public func contains(_ socketAddress: SocketAddress?) -> Bool {
        guard let text = socketAddress?.ipAddress, var bytes = Self.bytes(of: text) else { return false }
        if address.count == 4, bytes.count == 16, bytes.prefix(12).elementsEqual(Self.mappedIPv4Prefix) {
            bytes = Array(bytes.suffix(4))
        }
        return bytes.count == address.count && Self.masked(bytes, to: prefixLength) == address
    }

    private static let mappedIPv4Prefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]

    private static func bytes(of text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count <= 45,
            let parsed = try? SocketAddress(ipAddress: text, port: 0)
        else { return nil }
        switch parsed {
        case .v4(let v4):
            return withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6):
            return withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        case .unixDomainSocket:
            return nil
        }
    }

    private static func masked(_ bytes: [UInt8], to length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bitsInByte = min(8, max(0, length - index * 8))
            return bitsInByte == 8 ? byte : byte & ~(UInt8(0xff) >> bitsInByte)
        }
    }
}
