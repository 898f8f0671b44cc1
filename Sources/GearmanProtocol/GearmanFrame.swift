import NIOCore

/// What the framing decoder yields: a binary packet, or one line of the admin text protocol.
public enum GearmanFrame: Sendable, Hashable {
    case packet(GearmanPacket)
    /// An admin command line without its line ending.
    case adminLine(ByteBuffer)
}
