import GearmanProtocol
import NIOCore

/// What a client or worker connection has yet to send: requests encoded into one buffer, flushed once per
/// read or write batch. An image-sized workload or result is not copied into it: it goes out by reference,
/// after the bytes encoded before it, in the same vector write, so the buffer never grows to the largest
/// photo's size for as long as the connection lives.
///
/// A class, used on its connection's event loop only: a write or flush can call back into the handler that
/// owns it (a failed write closes the channel, whose events reach the handler at once), and the handler may
/// then append again. Each method therefore finishes with the buffer before it hands anything to the channel.
final class OutboundRequests {
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

    func append(_ request: GearmanRequest, context: ChannelHandlerContext) {
        guard let data = request.encode(into: &buffer, largeDataByReference: true) else { return }
        let encoded = buffer
        buffer = context.channel.allocator.buffer(capacity: capacity)
        hasPendingWrites = true
        context.write(NIOAny(encoded), promise: nil)
        context.write(NIOAny(data), promise: nil)
    }

    /// Writes what is buffered and flushes, if there is anything to send.
    func flush(context: ChannelHandlerContext) {
        guard !isEmpty else { return }
        hasPendingWrites = false
        if buffer.readableBytes > 0 {
            let encoded = buffer
            buffer.clear()
            context.write(NIOAny(encoded), promise: nil)
        }
        context.flush()
    }

    /// Writes and flushes everything; the future completes once all of it has been written.
    func flushed(context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        hasPendingWrites = false
        let encoded = buffer
        buffer.clear()
        return context.writeAndFlush(NIOAny(encoded))
    }
}
