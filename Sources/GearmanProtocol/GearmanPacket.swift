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

extension GearmanPacket {
    /// The handle and the data of WORK_COMPLETE (or of any packet with those two arguments).
    public func handleAndData() throws -> (handle: ByteBuffer, data: ByteBuffer) {
        var args = GearmanArgumentReader(body, type: type, expected: 2)
        return (try args.next(), args.rest())
    }
}
