import GearmanProtocol
import GearmanServer
import NIOCore

/// Splits a connection's bytes into response packets with the server's `GearmanFrameReader`: no
/// `ByteToMessageHandler` boxing every frame, as the generator must cost less per packet than what it measures.
struct PacketReader {
    private var reader = GearmanFrameReader()

    /// Calls `body` for every complete packet. Throws on bytes that are not Gearman packets (admin text
    /// included: a server never sends it unasked).
    mutating func read(_ buffer: ByteBuffer, allocator: ByteBufferAllocator, _ body: (GearmanPacket) -> Void) throws {
        try reader.read(buffer, allocator: allocator) { frame in
            guard case .packet(let packet) = frame else { throw GearmanProtocolError.invalidMagic(0) }
            body(packet)
        }
    }
}
