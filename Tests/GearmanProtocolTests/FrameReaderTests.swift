import GearmanProtocol
import NIOCore
import Testing

@Suite struct FrameReaderTests {
    /// Every sample request, an admin line between them and a 20 KiB packet, as one stream.
    private static let stream: ByteBuffer = {
        var buffer = ByteBuffer()
        for request in Samples.requests {
            request.encode(into: &buffer)
            buffer.writeString("status\r\n")
        }
        GearmanRequest.echo(ByteBuffer(repeating: 7, count: 20 * 1024)).encode(into: &buffer)
        buffer.writeString("workers\n")
        return buffer
    }()

    private static func wholeFrames() throws -> [GearmanFrame] {
        var decoder = GearmanFrameDecoder()
        var buffer = stream
        var frames: [GearmanFrame] = []
        while let frame = try decoder.decode(buffer: &buffer) {
            frames.append(frame)
        }
        #expect(buffer.readableBytes == 0)
        return frames
    }

    private static func frames(readingIn pieces: [Int]) throws -> [GearmanFrame] {
        var reader = GearmanFrameReader()
        var buffer = stream
        var frames: [GearmanFrame] = []
        var piece = 0
        while buffer.readableBytes > 0 {
            let length = min(pieces[piece % pieces.count], buffer.readableBytes)
            piece += 1
            try reader.read(buffer.readSlice(length: length)!, allocator: ByteBufferAllocator()) { frames.append($0) }
        }
        return frames
    }

    @Test(arguments: [[1], [2], [5], [11], [12], [13], [64], [1000], [4096], [7, 1, 300, 12, 9000]])
    func framesSpanningReadsComeOutAsInOneRead(pieces: [Int]) throws {
        #expect(try Self.frames(readingIn: pieces) == Self.wholeFrames())
    }

    /// A frame larger than the reader reserves ahead comes out whole, however its bytes are cut.
    @Test func aFrameOfSeveralMebibytesArrivingInPiecesComesOutWhole() throws {
        let workload = ByteBuffer(bytes: (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        var stream = ByteBuffer()
        GearmanRequest.echo(workload).encode(into: &stream)
        GearmanRequest.echo(ByteBuffer(string: "after")).encode(into: &stream)
        var reader = GearmanFrameReader()
        var frames: [GearmanFrame] = []
        let pieces = [5, 7, 65536, 1 << 20, 3]
        var turn = 0
        while stream.readableBytes > 0 {
            let piece = stream.readSlice(length: min(pieces[turn % pieces.count], stream.readableBytes))!
            turn += 1
            try reader.read(piece, allocator: ByteBufferAllocator()) { frames.append($0) }
        }
        #expect(frames.count == 2)
        guard case .packet(let packet)? = frames.first else {
            Issue.record("no packet")
            return
        }
        #expect(packet.body == workload)
    }

    @Test func aTwoPartFrameIsFollowedByTheFramesOfTheSameRead() throws {
        var stream = ByteBuffer()
        GearmanRequest.echo(ByteBuffer(string: "first")).encode(into: &stream)
        GearmanRequest.echo(ByteBuffer(string: "second")).encode(into: &stream)
        stream.writeString("status\n")
        var reader = GearmanFrameReader()
        var frames: [GearmanFrame] = []
        try reader.read(stream.readSlice(length: 5)!, allocator: ByteBufferAllocator()) { frames.append($0) }
        #expect(frames.isEmpty)
        try reader.read(stream, allocator: ByteBufferAllocator()) { frames.append($0) }
        #expect(frames.count == 3)
        #expect(frames.last == .adminLine(ByteBuffer(string: "status")))
    }

    @Test func anOversizedLengthIsRefusedWhenItsHeaderSpansReads() throws {
        var header = ByteBuffer()
        header.writeMultipleIntegers(GearmanMagic.request.rawValue, GearmanPacketType.echoRequest.rawValue, UInt32(1 << 20))
        var reader = GearmanFrameReader(decoder: GearmanFrameDecoder(maximumPacketSize: 1024))
        try reader.read(header.readSlice(length: 6)!, allocator: ByteBufferAllocator()) { _ in }
        #expect(throws: GearmanProtocolError.self) {
            try reader.read(header, allocator: ByteBufferAllocator()) { _ in }
        }
    }

    /// A frame sliced from a read keeps that read's buffer alive: a small read into a large buffer is copied,
    /// so that a queued job does not hold 64 KiB.
    @Test func aSmallReadInALargeBufferIsCopiedToItsOwnSize() throws {
        var large = ByteBufferAllocator().buffer(capacity: 65536)
        GearmanRequest.echo(ByteBuffer(string: "job")).encode(into: &large)
        var reader = GearmanFrameReader()
        var frames: [GearmanFrame] = []
        try reader.read(large, allocator: ByteBufferAllocator()) { frames.append($0) }
        guard case .packet(let packet)? = frames.first else {
            Issue.record("no packet")
            return
        }
        #expect(packet.body.storageCapacity < 4096)
        var full = ByteBufferAllocator().buffer(capacity: 8192)
        while full.writableBytes >= 20 {
            GearmanRequest.echo(ByteBuffer(string: "job")).encode(into: &full)
        }
        var fullFrames: [GearmanFrame] = []
        try reader.read(full, allocator: ByteBufferAllocator()) { fullFrames.append($0) }
        guard case .packet(let fullPacket)? = fullFrames.first else {
            Issue.record("no packet")
            return
        }
        #expect(fullPacket.body.storageCapacity == 8192, "a well-filled read is sliced, not copied")
    }

    @Test func anAdminLineCutByTheEndOfTheStreamIsRead() throws {
        var reader = GearmanFrameReader()
        try reader.read(ByteBuffer(string: "sta"), allocator: ByteBufferAllocator()) { _ in Issue.record("no frame yet") }
        try reader.read(ByteBuffer(string: "tus"), allocator: ByteBufferAllocator()) { _ in Issue.record("no frame yet") }
        var frames: [GearmanFrame] = []
        reader.readLast { frames.append($0) }
        #expect(frames == [.adminLine(ByteBuffer(string: "status"))])
    }
}
