import GearmanProtocol
import NIOCore

/// Writes a whole packet with one reservation of the outgoing buffer and raw copies, for the messages of every
/// job (JOB_CREATED, JOB_ASSIGN*, WORK_COMPLETE, NOOP, NO_JOB, and the load generator's SUBMIT_JOB and
/// WORK_COMPLETE). Writing it piece by piece costs a bounds and exclusivity check per piece, which profiling
/// showed as the largest single cost of encoding.
public enum PacketWriter {
    /// Up to four arguments after an optional handle: each but the last is followed by a NUL.
    /// `handle` counts as the first argument when present.
    public static func write(
        _ magic: GearmanMagic = .response, _ type: GearmanPacketType, handle: JobHandle? = nil,
        handles: JobHandleFormat? = nil,
        _ a: ByteBuffer? = nil, _ b: ByteBuffer? = nil, _ c: ByteBuffer? = nil, last: ByteBuffer? = nil,
        into buffer: inout ByteBuffer
    ) {
        let digits = handle.map { decimalDigits($0.number) } ?? 0
        precondition(handle == nil || handles != nil, "a handle needs its format")
        let leadLength = handle == nil ? 0 : handles!.lead.readableBytes
        var body = leadLength + digits
        var separators = handle == nil ? 0 : 1
        if let a {
            body += a.readableBytes
            separators += 1
        }
        if let b {
            body += b.readableBytes
            separators += 1
        }
        if let c {
            body += c.readableBytes
            separators += 1
        }
        if let last {
            body += last.readableBytes
        } else if separators > 0 {
            separators -= 1  // the last argument has no NUL after it
        }
        body += separators
        let total = GearmanPacket.headerLength + body
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { raw in
            raw.storeBytes(of: magic.rawValue.bigEndian, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: type.rawValue.bigEndian, toByteOffset: 4, as: UInt32.self)
            raw.storeBytes(of: UInt32(body).bigEndian, toByteOffset: 8, as: UInt32.self)
            var offset = GearmanPacket.headerLength
            var remainingSeparators = separators
            func separator() {
                if remainingSeparators > 0 {
                    raw[offset] = 0
                    offset += 1
                    remainingSeparators -= 1
                }
            }
            if let handle {
                offset += copy(handles!.lead, to: raw, at: offset)
                var number = handle.number
                var end = offset + digits
                offset = end
                repeat {
                    end -= 1
                    raw[end] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: number % 10)
                    number /= 10
                } while number > 0
                separator()
            }
            if let a {
                offset += copy(a, to: raw, at: offset)
                separator()
            }
            if let b {
                offset += copy(b, to: raw, at: offset)
                separator()
            }
            if let c {
                offset += copy(c, to: raw, at: offset)
                separator()
            }
            if let last {
                offset += copy(last, to: raw, at: offset)
            }
            return offset
        }
    }

    @inline(__always)
    private static func copy(_ source: ByteBuffer, to raw: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
        source.withUnsafeReadableBytes { bytes in
            if let base = bytes.baseAddress, bytes.count > 0 {
                (raw.baseAddress! + offset).copyMemory(from: base, byteCount: bytes.count)
            }
            return bytes.count
        }
    }

    public static func decimalDigits(_ number: UInt64) -> Int {
        var count = 1
        var rest = number
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }
}

extension ServerMessage {
    /// `encode(into:handles:)`, with the messages of every job written in one piece.
    func encodeFast(into buffer: inout ByteBuffer, handles: JobHandleFormat) {
        switch self {
        case .jobCreated(let handle):
            PacketWriter.write(.response, .jobCreated, handle: handle, handles: handles, into: &buffer)
        case .jobAssign(let handle, .unique, let function, let unique, nil, let workload),
            .jobAssign(let handle, .all, let function, let unique, nil, let workload):
            PacketWriter.write(
                .response, .jobAssignUnique, handle: handle, handles: handles, function, unique, last: workload, into: &buffer)
        case .jobAssign(let handle, .plain, let function, _, _, let workload):
            PacketWriter.write(
                .response, .jobAssign, handle: handle, handles: handles, function, last: workload, into: &buffer)
        case .response(.noop):
            PacketWriter.write(.response, .noop, into: &buffer)
        case .response(.noJob):
            PacketWriter.write(.response, .noJob, into: &buffer)
        case .response(.workComplete(let handle, let data)):
            PacketWriter.write(.response, .workComplete, handle, last: data, into: &buffer)
        default:
            encode(into: &buffer, handles: handles)
        }
    }
}
