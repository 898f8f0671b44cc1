import GearmanProtocol
import NIOCore
import Testing

@testable import GearmanServer

/// The channel layer's fast paths must write exactly what `ServerMessage.encode(into:handles:)` writes.
@Suite struct MessageEncodingTests {
    static let handles = JobHandleFormat(prefix: "host")

    static func bytes(_ count: Int) -> ByteBuffer {
        ByteBuffer(bytes: (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    }

    static let messages: [ServerMessage] = {
        var messages: [ServerMessage] = []
        for number: UInt64 in [0, 7, 10, 12345, UInt64.max] {
            let handle = JobHandle(number)
            messages.append(.jobCreated(handle))
            messages.append(.workFail(handle))
            for size in [0, 1, 64, ServerMessage.copyLimit - 1, ServerMessage.copyLimit, 70_000] {
                for mode in [GearmanGrabMode.plain, .unique, .all] {
                    messages.append(
                        .jobAssign(
                            handle, mode, function: ByteBuffer(string: "resize"), unique: ByteBuffer(string: "u-1"),
                            reducer: nil, workload: bytes(size)))
                    messages.append(
                        .jobAssign(
                            handle, mode, function: ByteBuffer(string: "f"), unique: ByteBuffer(),
                            reducer: ByteBuffer(string: "reduce"), workload: bytes(size)))
                }
                let handleBytes = handles.buffer(for: handle)
                messages.append(.response(.workComplete(handle: handleBytes, data: bytes(size))))
                messages.append(.response(.workData(handle: handleBytes, data: bytes(size))))
            }
        }
        messages.append(.response(.noop))
        messages.append(.response(.noJob))
        messages.append(.response(.error(code: "QUEUE_ERROR", message: "Job queue is full")))
        return messages
    }()

    @Test func fastEncodingMatchesTheReference() {
        for message in Self.messages {
            var reference = ByteBuffer()
            message.encode(into: &reference, handles: Self.handles)
            var fast = ByteBuffer(string: "prefix")
            message.encodeFast(into: &fast, handles: Self.handles)
            #expect(fast.readString(length: 6) == "prefix")
            #expect(fast == reference, "\(message)")
        }
    }

    @Test func aHeadAndItsTrailerMakeTheWholePacket() {
        for message in Self.messages {
            var reference = ByteBuffer()
            message.encode(into: &reference, handles: Self.handles)
            var head = ByteBuffer()
            if var trailer = message.encodeHead(into: &head, handles: Self.handles) {
                #expect(trailer.readableBytes >= ServerMessage.copyLimit)
                head.writeBuffer(&trailer)
            }
            #expect(head == reference, "\(message)")
        }
    }

    @Test func handlesAreWrittenAndParsedBack() {
        for number: UInt64 in [0, 9, 10, 99, 100, 18_446_744_073_709_551_615] {
            let bytes = Self.handles.buffer(for: JobHandle(number))
            #expect(String(buffer: bytes) == "H:host:\(number)")
            #expect(Self.handles.parse(bytes) == JobHandle(number))
        }
        for text in ["H:host:", "H:other:1", "H:host:1x", "H:host:18446744073709551616", "h:host:1", ""] {
            #expect(Self.handles.parse(ByteBuffer(string: text)) == nil, "\(text)")
        }
    }
}
