import GearmanProtocol
import NIOCore

/// Drives the protocol layer with arbitrary bytes: the framing decoder (fed in pieces of every size), then
/// every frame as a request, a response and an admin line. A typed request or response must encode back to
/// bytes that decode to the same value. Anything else than a `GearmanProtocolError` thrown, or a trap, is a
/// defect.
public enum ProtocolFuzzer {
    public static func run(_ data: [UInt8]) {
        guard let split = data.first else { return }
        var decoder = GearmanFrameDecoder(maximumPacketSize: 1 << 16, maximumAdminLineLength: 512)
        var buffer = ByteBuffer()
        var remaining = data.dropFirst()
        let step = max(1, Int(split))
        while !remaining.isEmpty {
            buffer.writeBytes(remaining.prefix(step))
            remaining = remaining.dropFirst(step)
            do {
                while let frame = try decoder.decode(buffer: &buffer) {
                    check(frame)
                }
            } catch is GearmanProtocolError {
                return
            } catch {
                fatalError("the frame decoder threw \(error)")
            }
        }
        do {
            while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) {
                check(frame)
            }
        } catch is GearmanProtocolError {
        } catch {
            fatalError("the frame decoder threw \(error) at the end")
        }
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
                precondition(again == request, "request \(request) encodes to bytes that decode to \(String(describing: again))")
            }
            if let response = decoded({ try GearmanResponse(packet: packet) }) {
                var bytes = ByteBuffer()
                response.encode(into: &bytes)
                let again = reread(bytes) { try GearmanResponse(packet: $0) }
                precondition(again == response, "response \(response) encodes to bytes that decode to \(String(describing: again))")
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
