import GearmanProtocol
import NIOCore
import Testing

@testable import GearmanServer

/// `ServerMessage.encode` writes each message as the packet it stands for, whole or with its large data left
/// for a write by reference.
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
            for size in [
                0, 1, 64, GearmanPacketWriter.referenceThreshold - 1, GearmanPacketWriter.referenceThreshold, 70_000,
            ] {
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

    /// The response a client or worker reads from the message's bytes.
    static func expectedResponse(_ message: ServerMessage) -> GearmanResponse? {
        switch message {
        case .response(let response):
            return response
        case .jobCreated(let handle):
            return .jobCreated(handle: handles.buffer(for: handle))
        case .workFail(let handle):
            return .workFail(handle: handles.buffer(for: handle))
        case .jobAssign(let handle, .plain, let function, _, _, let workload):
            return .jobAssign(handle: handles.buffer(for: handle), function: function, workload: workload)
        case .jobAssign(let handle, .all, let function, let unique, let reducer?, let workload):
            return .jobAssignAll(
                handle: handles.buffer(for: handle), function: function, unique: unique, reducer: reducer,
                workload: workload)
        case .jobAssign(let handle, _, let function, let unique, _, let workload):
            return .jobAssignUnique(
                handle: handles.buffer(for: handle), function: function, unique: unique, workload: workload)
        default:
            return nil
        }
    }

    @Test func eachMessageIsThePacketItStandsFor() throws {
        for message in Self.messages {
            var bytes = ByteBuffer(string: "prefix")
            message.encode(into: &bytes, handles: Self.handles)
            #expect(bytes.readString(length: 6) == "prefix")
            var decoder = GearmanFrameDecoder()
            guard case .packet(let packet) = try decoder.decode(buffer: &bytes) else {
                Issue.record("\(message) wrote no packet")
                continue
            }
            #expect(bytes.readableBytes == 0, "\(message)")
            #expect(try GearmanResponse(packet: packet) == Self.expectedResponse(message), "\(message)")
        }
    }

    @Test func aHeadAndItsTrailerMakeTheWholePacket() {
        for message in Self.messages {
            var reference = ByteBuffer()
            message.encode(into: &reference, handles: Self.handles)
            var head = ByteBuffer()
            if var trailer = message.encode(into: &head, handles: Self.handles, largeDataByReference: true) {
                #expect(trailer.readableBytes >= GearmanPacketWriter.referenceThreshold)
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
