import NIOCore
import Testing

@testable import GearmanProtocol

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
        header.writeMultipleIntegers(
            GearmanMagic.request.rawValue, GearmanPacketType.echoRequest.rawValue, UInt32(1 << 20))
        var reader = GearmanFrameReader(decoder: GearmanFrameDecoder(maximumPacketSize: 1024))
        try reader.read(header.readSlice(length: 6)!, allocator: ByteBufferAllocator()) { _ in }
        #expect(throws: GearmanProtocolError.self) {
            try reader.read(header, allocator: ByteBufferAllocator()) { _ in }
        }
    }

    @Test func aStreamCutInTwoAtEveryByteComesOutAsInOneRead() throws {
        var stream = ByteBuffer()
        let job = GearmanSubmitJob(
            function: ByteBuffer(string: "resize"), unique: ByteBuffer(string: "u"),
            workload: ByteBuffer(string: "photo"))
        GearmanRequest.submitJob(job).encode(into: &stream)
        stream.writeString("status\r\n")
        GearmanRequest.echo(ByteBuffer(string: "after")).encode(into: &stream)
        var whole: [GearmanFrame] = []
        var oneRead = GearmanFrameReader()
        try oneRead.read(stream, allocator: ByteBufferAllocator()) { whole.append($0) }
        #expect(whole.count == 3)
        for cut in 1..<stream.readableBytes {
            var reader = GearmanFrameReader()
            var frames: [GearmanFrame] = []
            var rest = stream
            try reader.read(rest.readSlice(length: cut)!, allocator: ByteBufferAllocator()) { frames.append($0) }
            try reader.read(rest, allocator: ByteBufferAllocator()) { frames.append($0) }
            #expect(frames == whole, "cut after \(cut) bytes")
            #expect(reader.unread == nil, "cut after \(cut) bytes")
        }
    }

    @Test func aHeaderAnnouncingMoreThanTheMaximumIsRefusedWithoutWaitingForItsBody() throws {
        func header(announcing length: UInt32) -> ByteBuffer {
            var header = ByteBuffer()
            header.writeMultipleIntegers(GearmanMagic.request.rawValue, GearmanPacketType.echoRequest.rawValue, length)
            return header
        }
        var read = ByteBuffer()
        GearmanRequest.echo(ByteBuffer(string: "first")).encode(into: &read)
        read.writeImmutableBuffer(header(announcing: 1025))
        var reader = GearmanFrameReader(decoder: GearmanFrameDecoder(maximumPacketSize: 1024))
        var frames: [GearmanFrame] = []
        #expect(throws: GearmanProtocolError.packetTooLarge(1025, limit: 1024)) {
            try reader.read(read, allocator: ByteBufferAllocator()) { frames.append($0) }
        }
        #expect(
            frames == [.packet(GearmanPacket(magic: .request, type: .echoRequest, body: ByteBuffer(string: "first")))])

        var atTheMaximum = GearmanFrameReader(decoder: GearmanFrameDecoder(maximumPacketSize: 1024))
        try atTheMaximum.read(header(announcing: 1024), allocator: ByteBufferAllocator()) { _ in
            Issue.record("no body yet")
        }
        #expect(atTheMaximum.unread?.readableBytes == GearmanPacket.headerLength)
    }

    /// A frame that a read ends inside gets a buffer for all of it, but at most 1 MiB ahead of the bytes that
    /// came: a bare header may announce 64 MiB.
    @Test func aFrameCutByItsReadReservesAtMostOneMebibyteAhead() throws {
        #expect(GearmanFrameReader.largestReservation == 1 << 20)
        func reserved(announcing length: Int, arrived: Int) throws -> Int {
            var read = ByteBuffer()
            read.writeMultipleIntegers(
                GearmanMagic.request.rawValue, GearmanPacketType.echoRequest.rawValue, UInt32(length))
            read.writeRepeatingByte(7, count: arrived)
            var reader = GearmanFrameReader()
            try reader.read(read, allocator: ByteBufferAllocator()) { _ in Issue.record("the frame is not complete") }
            return try #require(reader.unread).capacity
        }
        let small = 300_000
        #expect(try reserved(announcing: small, arrived: 0) >= GearmanPacket.headerLength + small)
        #expect(try reserved(announcing: GearmanFrameDecoder.defaultMaximumPacketSize, arrived: 0) == 1 << 20)
        #expect(try reserved(announcing: GearmanFrameDecoder.defaultMaximumPacketSize, arrived: 100) == 1 << 20)
        // 1.5 MiB of a 3 MiB frame: as much as came, not the whole frame (rounded up to a power of two).
        #expect(try reserved(announcing: 3 << 20, arrived: 3 << 19) == 2 << 20)
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
        try reader.read(ByteBuffer(string: "sta"), allocator: ByteBufferAllocator()) { _ in Issue.record("no frame yet")
        }
        try reader.read(ByteBuffer(string: "tus"), allocator: ByteBufferAllocator()) { _ in Issue.record("no frame yet")
        }
        var frames: [GearmanFrame] = []
        reader.readLast { frames.append($0) }
        #expect(frames == [.adminLine(ByteBuffer(string: "status"))])
    }
}
