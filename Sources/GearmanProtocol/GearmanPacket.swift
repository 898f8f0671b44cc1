import NIOCore

/// One framed binary packet: its magic, its type and its body, a slice of the bytes that were read.
public struct GearmanPacket: Sendable, Hashable {
    public static let headerLength = 12

    public var magic: GearmanMagic
    public var type: GearmanPacketType
    public var body: ByteBuffer

    public init(magic: GearmanMagic, type: GearmanPacketType, body: ByteBuffer) {
        self.magic = magic
        self.type = type
        self.body = body
    }
}
