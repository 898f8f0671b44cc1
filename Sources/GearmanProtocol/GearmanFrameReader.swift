import NIOCore

/// Splits a connection's reads into frames with `GearmanFrameDecoder`, in the handler that uses them.
///
/// A `ByteToMessageHandler` in front would box every frame into an `NIOAny` and cast it back. Frames are
/// slices of the bytes read, not copies. Only a frame that spans two reads is copied: its first part into a
/// buffer of its own, sized for the whole frame when its header says how long it is (up to 1 MiB ahead of its
/// bytes), and then just the bytes of the next read that complete it. The frames after it are sliced from that read in place.
public struct GearmanFrameReader {
    private var decoder: GearmanFrameDecoder
    /// The start of a frame that the last read ended inside.
    private(set) var unread: ByteBuffer?

    public init(decoder: GearmanFrameDecoder = GearmanFrameDecoder()) {
        self.decoder = decoder
    }

    /// Calls `body` for each complete frame, oldest first. After a throw the reader must not be used again.
    public mutating func read(
        _ incoming: ByteBuffer, allocator: ByteBufferAllocator, _ body: (GearmanFrame) throws -> Void
    ) throws {
        var buffer = Self.compacted(incoming, allocator: allocator)
        if var partial = unread {
            unread = nil
            guard let frame = try complete(&partial, from: &buffer) else {
                unread = partial
                return
            }
            try body(frame)
        }
        while let frame = try decoder.decode(buffer: &buffer) {
            try body(frame)
        }
        guard buffer.readableBytes > 0 else { return }
        // Sized for the whole frame, but never more than `largestReservation` ahead of the bytes that came:
        // a header alone must not make the server reserve the 64 MiB it may announce.
        let frame = Self.frameLength(startingWith: buffer) ?? buffer.readableBytes
        var own = allocator.buffer(capacity: min(frame, max(buffer.readableBytes, Self.largestReservation)))
        own.writeBuffer(&buffer)
        unread = own
    }

    /// Bytes read into a buffer much larger than they are would keep the whole allocation alive for as long
    /// as any frame sliced from them does (a queued job can wait for hours): a 100-byte job read alone into a
    /// 64 KiB buffer would hold 64 KiB. Such reads are copied into a buffer of their own size first.
    static func compacted(_ incoming: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let waste = incoming.capacity - incoming.readableBytes
        guard waste > compactionThreshold, waste > incoming.readableBytes else { return incoming }
        var own = allocator.buffer(capacity: incoming.readableBytes)
        own.writeImmutableBuffer(incoming)
        return own
    }

    /// The most a frame's buffer reserves beyond what has arrived of it; the rest grows as its bytes come. The
    /// HTTP port reserves a request body the same way.
    public static let largestReservation = 1 << 20

    /// Unused bytes of a read's buffer above which, when they also outnumber the bytes read, the bytes are
    /// copied (see `compacted`).
    static let compactionThreshold = 4096

    /// Moves into `partial` the bytes of `incoming` that finish its frame, and decodes it; nil when
    /// `incoming` ends first (all of it is then in `partial`).
    private mutating func complete(_ partial: inout ByteBuffer, from incoming: inout ByteBuffer) throws -> GearmanFrame?
    {
        let isPacket = partial.getInteger(at: partial.readerIndex, as: UInt8.self) == 0
        if isPacket, partial.readableBytes < GearmanPacket.headerLength {
            var header = incoming.readSlice(
                length: min(GearmanPacket.headerLength - partial.readableBytes, incoming.readableBytes))!
            partial.writeBuffer(&header)
        }
        var wanted = incoming.readableBytes
        if isPacket {
            // Checks the announced length against the limit before anything is copied for it.
            if let frame = try decoder.decode(buffer: &partial) { return frame }
            if let length = Self.frameLength(startingWith: partial) {
                wanted = min(wanted, length - partial.readableBytes)
            }
        } else if let newline = incoming.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            wanted = newline - incoming.readerIndex + 1
        }
        var rest = incoming.readSlice(length: wanted)!
        partial.writeBuffer(&rest)
        return try decoder.decode(buffer: &partial)
    }

    /// The whole length of the packet whose header starts `buffer`, when the header is all there.
    private static func frameLength(startingWith buffer: ByteBuffer) -> Int? {
        guard buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) == 0,
            let length = buffer.getInteger(at: buffer.readerIndex + 8, as: UInt32.self)
        else { return nil }
        return GearmanPacket.headerLength + Int(length)
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
