import GearmanProtocol
import NIOCore

/// Drives the protocol layer with arbitrary bytes: the framing decoder (fed in pieces of every size) and the
/// frame reader (fed in pieces of another size), which must find the same frames, then every frame as a
/// request, a response and an admin line. A typed request or response must encode back to
/// bytes that decode to the same value. Anything else than a `GearmanProtocolError` thrown, or a trap, is a
/// defect.
public enum ProtocolFuzzer {
    public static func run(_ data: [UInt8]) {
        guard let split = data.first else { return }
        var decoder = GearmanFrameDecoder(maximumPacketSize: 1 << 16, maximumAdminLineLength: 512)
        var buffer = ByteBuffer()
        var remaining = data.dropFirst()
        let step = max(1, Int(split))
        let readerFrames = framesFromReader(data.dropFirst(), pieces: max(1, Int(split >> 3)))
        var decoderFrames: [GearmanFrame] = []
        while !remaining.isEmpty {
            buffer.writeBytes(remaining.prefix(step))
            remaining = remaining.dropFirst(step)
            do {
                while let frame = try decoder.decode(buffer: &buffer) {
                    decoderFrames.append(frame)
                    check(frame)
                }
            } catch is GearmanProtocolError {
                precondition(readerFrames.failed, "the reader took bytes that the decoder refuses")
                precondition(readerFrames.frames == decoderFrames, "the reader and the decoder split differently")
                return
            } catch {
                fatalError("the frame decoder threw \(error)")
            }
        }
        precondition(!readerFrames.failed, "the reader refused bytes that the decoder takes")
        precondition(readerFrames.frames == decoderFrames, "the reader and the decoder split differently")
        do {
            while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) {
                check(frame)
            }
        } catch is GearmanProtocolError {
        } catch {
            fatalError("the frame decoder threw \(error) at the end")
        }
    }

    /// The frames `GearmanFrameReader` finds in `data` read in pieces of `pieces` bytes, and whether it threw.
    private static func framesFromReader(_ data: ArraySlice<UInt8>, pieces: Int) -> (
        frames: [GearmanFrame], failed: Bool
    ) {
        var reader = GearmanFrameReader(
            decoder: GearmanFrameDecoder(maximumPacketSize: 1 << 16, maximumAdminLineLength: 512))
        var frames: [GearmanFrame] = []
        var remaining = data
        while !remaining.isEmpty {
            let piece = ByteBuffer(bytes: remaining.prefix(pieces))
            remaining = remaining.dropFirst(pieces)
            do {
                try reader.read(piece, allocator: ByteBufferAllocator()) { frames.append($0) }
            } catch is GearmanProtocolError {
                return (frames, true)
            } catch {
                fatalError("the frame reader threw \(error)")
            }
        }
        return (frames, false)
    }

    private static func check(_ frame: GearmanFrame) {
        switch frame {
        case .adminLine(let line):
            _ = GearmanAdminCommand(line: line)
        case .packet(let packet):
            if let request = decoded({ try GearmanRequest(packet: packet) }) {
                var bytes = ByteBuffer()
                request.encode(into: &bytes)
                let again = reread(bytes) { try GearmanRequest(packet: $0) }
                precondition(
                    again == request, "request \(request) encodes to bytes that decode to \(String(describing: again))")
            }
            if let response = decoded({ try GearmanResponse(packet: packet) }) {
                var bytes = ByteBuffer()
                response.encode(into: &bytes)
                let again = reread(bytes) { try GearmanResponse(packet: $0) }
                precondition(
                    again == response,
                    "response \(response) encodes to bytes that decode to \(String(describing: again))")
            }
        }
    }

    private static func decoded<T>(_ body: () throws -> T) -> T? {
        do {
            return try body()
        } catch is GearmanProtocolError {
            return nil
        } catch {
            fatalError("packet decoding threw \(error)")
        }
    }

    private static func reread<T>(_ bytes: ByteBuffer, _ decode: (GearmanPacket) throws -> T) -> T? {
        var bytes = bytes
        var decoder = GearmanFrameDecoder()
        guard case .packet(let packet)? = try? decoder.decode(buffer: &bytes), bytes.readableBytes == 0 else {
            return nil
        }
        return try? decode(packet)
    }
}
