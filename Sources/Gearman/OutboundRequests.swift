import GearmanProtocol
import NIOCore

/// What a client or worker connection has yet to send: requests encoded into one buffer, flushed once per
/// read or write batch. An image-sized workload or result is not copied into it: it goes out by reference,
/// after the bytes encoded before it, in the same vector write, so the buffer never grows to the largest
/// photo's size for as long as the connection lives.
struct OutboundRequests {
    private var buffer: ByteBuffer
    private let capacity: Int
    /// A workload or result was written by reference since the last flush.
    private var hasPendingWrites = false

    init(capacity: Int) {
        self.capacity = capacity
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    /// Nothing to send.
    var isEmpty: Bool { buffer.readableBytes == 0 && !hasPendingWrites }

    mutating func append(_ request: GearmanRequest, context: ChannelHandlerContext) {
        guard let data = request.encode(into: &buffer, largeDataByReference: true) else { return }
        context.write(NIOAny(buffer), promise: nil)
        buffer = context.channel.allocator.buffer(capacity: capacity)
        context.write(NIOAny(data), promise: nil)
        hasPendingWrites = true
    }

    /// Writes what is buffered and flushes, if there is anything to send.
    mutating func flush(context: ChannelHandlerContext) {
        guard !isEmpty else { return }
        hasPendingWrites = false
        if buffer.readableBytes > 0 {
            context.write(NIOAny(buffer), promise: nil)
            buffer.clear()
        }
        context.flush()
    }

    /// Writes and flushes everything; the future completes once all of it has been written.
    mutating func flushed(context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        hasPendingWrites = false
        let written = context.writeAndFlush(NIOAny(buffer))
        buffer.clear()
        return written
    }
}
