import GearmanProtocol
import NIOCore

/// Splits a connection's reads into frames with `GearmanFrameDecoder`, in the handler that uses them.
///
/// A `ByteToMessageHandler` in front would box every frame into an `NIOAny` and cast it back. Frames are
/// slices of the bytes read, not copies. The bytes of an incomplete frame are moved once into a buffer of
/// their own, sized for the whole frame when its header says how long it is, so that the reads that complete
/// a large packet append in place instead of copying it again each time.
public struct GearmanFrameReader {
    private var decoder: GearmanFrameDecoder
    private var unread: ByteBuffer?

    public init(decoder: GearmanFrameDecoder = GearmanFrameDecoder()) {
        self.decoder = decoder
    }

    /// Calls `body` for each complete frame, oldest first. After a throw the reader must not be used again.
    public mutating func read(
        _ incoming: ByteBuffer, allocator: ByteBufferAllocator, _ body: (GearmanFrame) throws -> Void
    ) throws {
        var buffer = incoming
        var ownsBuffer = false
        if var rest = unread {
            unread = nil
            rest.writeImmutableBuffer(incoming)
            buffer = rest
            ownsBuffer = true
        }
        var decodedAny = false
        while let frame = try decoder.decode(buffer: &buffer) {
            decodedAny = true
            try body(frame)
        }
        guard buffer.readableBytes > 0 else { return }
        if ownsBuffer, !decodedAny {
            unread = buffer  // still ours alone: keep appending to it
            return
        }
        var needed = buffer.readableBytes
        if buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == 0,
            let length = buffer.getInteger(at: buffer.readerIndex + 8, as: UInt32.self)
        {
            needed = max(needed, GearmanPacket.headerLength + Int(length))
        }
        var own = allocator.buffer(capacity: needed)
        own.writeBuffer(&buffer)
        unread = own
    }

    /// At the end of the stream: what is left, as gearmand reads it (an admin line may end without a newline).
    public mutating func readLast(_ body: (GearmanFrame) -> Void) {
        guard var rest = unread else { return }
        unread = nil
        while let frame = try? decoder.decodeLast(buffer: &rest, seenEOF: true) {
            body(frame)
        }
    }
}
