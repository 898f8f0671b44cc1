import NIOCore

/// Writes a whole packet with one reservation of the outgoing buffer and raw copies: the one encoder of every
/// packet on a job's path (SUBMIT_JOB, JOB_CREATED, NOOP, GRAB_JOB, NO_JOB, JOB_ASSIGN*, WORK_*), shared by the
/// server, the load generator and the messages' `encode` methods. Writing a packet piece by piece costs a
/// bounds and exclusivity check per piece, which profiling showed as the largest single cost of encoding.
///
/// A packet's last argument of `referenceThreshold` bytes or more can be left out of the buffer and returned,
/// to be written by reference right after it in the same vector write: an image-sized workload is then never
/// copied into the outgoing buffer.
public enum GearmanPacketWriter {
    /// Below this many bytes a last argument is always copied.
    public static let referenceThreshold = 8 * 1024

    /// Up to three arguments after an optional handle, then an optional last one: each but the last is
    /// followed by a NUL. With `lastByReference` and a `last` of at least `referenceThreshold` bytes, the
    /// header counts `last` but only the bytes before it are written, and `last` is returned.
    @discardableResult
    public static func write(
        _ magic: GearmanMagic, _ type: GearmanPacketType, handle: JobHandle? = nil, handles: JobHandleFormat? = nil,
        _ a: ByteBuffer? = nil, _ b: ByteBuffer? = nil, _ c: ByteBuffer? = nil, last: ByteBuffer? = nil,
        lastByReference: Bool = false, into buffer: inout ByteBuffer
    ) -> ByteBuffer? {
        precondition(handle == nil || handles != nil, "a handle needs its format")
        let digits = handle.map { decimalDigits($0.number) } ?? 0
        var body = handle == nil ? 0 : handles!.lead.readableBytes + digits
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
        let trailer = lastByReference && (last?.readableBytes ?? 0) >= referenceThreshold ? last : nil
        if let last {
            body += last.readableBytes
        } else if separators > 0 {
            separators -= 1  // the last argument has no NUL after it
        }
        body += separators
        let written = GearmanPacket.headerLength + body - (trailer?.readableBytes ?? 0)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: written) { raw in
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
            if let last, trailer == nil {
                offset += copy(last, to: raw, at: offset)
            }
            return offset
        }
        return trailer
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
