/// A violation of the protocol by the peer. `code` and `message` are what an ERROR packet carries:
/// the code is a gearmand error name without its `GEARMAN_` prefix.
public struct GearmanProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    public static func invalidMagic(_ magic: UInt32) -> Self {
        let hex = String(magic, radix: 16, uppercase: true)
        return Self(code: "INVALID_MAGIC", message: "Invalid packet magic 0x\(hex)")
    }

    public static func unknownPacketType(_ type: UInt32) -> Self {
        Self(code: "INVALID_COMMAND", message: "Unknown packet type \(type)")
    }

    public static func unexpectedPacket(_ type: GearmanPacketType, magic: GearmanMagic) -> Self {
        let direction = magic == .request ? "request" : "response"
        return Self(code: "INVALID_COMMAND", message: "\(type.name) is not valid as a \(direction)")
    }

    public static func packetTooLarge(_ length: UInt32, limit: Int) -> Self {
        Self(code: "ARGUMENT_TOO_LARGE", message: "Packet body of \(length) bytes exceeds the limit of \(limit) bytes")
    }

    public static func missingArguments(_ type: GearmanPacketType, expected: Int, found: Int) -> Self {
        Self(code: "INVALID_PACKET", message: "\(type.name) needs \(expected) arguments, got \(found)")
    }

    public static func invalidNumber(_ type: GearmanPacketType, argument: String) -> Self {
        Self(code: "INVALID_PACKET", message: "\(type.name) has an invalid \(argument)")
    }

    public static func numberOutOfRange(_ type: GearmanPacketType, argument: String, range: String) -> Self {
        Self(code: "INVALID_PACKET", message: "\(type.name) has a \(argument) outside \(range)")
    }

    public static func adminLineTooLong(limit: Int) -> Self {
        Self(code: "ARGUMENT_TOO_LARGE", message: "Admin command line longer than \(limit) bytes")
    }
}
