import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes and parses job handles in gearmand's `H:<host>:<n>` form without storing a string per job.
public struct JobHandleFormat: Sendable, Hashable {
    /// `H:<prefix>:`
    public let lead: ByteBuffer

    /// gearmand caps a handle at 64 bytes with its terminator; 20 digits fit any UInt64.
    public static let maximumPrefixLength = 64 - 1 - 4 - 20

    public init(prefix: String) {
        precondition(prefix.utf8.count <= Self.maximumPrefixLength, "job handle prefix too long")
        lead = ByteBuffer(string: "H:\(prefix):")
    }

    public func write(_ handle: JobHandle, into buffer: inout ByteBuffer) {
        buffer.writeImmutableBuffer(lead)
        // The digits straight into the buffer: a String per handle would be an allocation per packet.
        var number = handle.number
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes, room for UInt64's 20 digits
        let count = withUnsafeMutableBytes(of: &digits) { bytes -> Int in
            var end = bytes.count
            repeat {
                end -= 1
                bytes[end] = UInt8(ascii: "0") + UInt8(number % 10)
                number /= 10
            } while number > 0
            return bytes.count - end
        }
        withUnsafeBytes(of: &digits) { bytes in
            _ = buffer.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - count)...]))
        }
    }

    public func string(for handle: JobHandle) -> String {
        String(buffer: lead) + String(handle.number)
    }

    public func buffer(for handle: JobHandle) -> ByteBuffer {
        var buffer = ByteBuffer()
        write(handle, into: &buffer)
        return buffer
    }

    /// The handle's number, or nil when the bytes are not a handle this server gave out.
    public func parse(_ bytes: ByteBuffer) -> JobHandle? {
        let leadLength = lead.readableBytes
        guard bytes.readableBytes > leadLength else { return nil }
        return bytes.withUnsafeReadableBytes { handle -> JobHandle? in
            let matches = lead.withUnsafeReadableBytes { lead in
                memcmp(handle.baseAddress!, lead.baseAddress!, leadLength) == 0
            }
            guard matches else { return nil }
            var number: UInt64 = 0
            for byte in handle[leadLength...] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                let (shifted, overflow1) = number.multipliedReportingOverflow(by: 10)
                let (next, overflow2) = shifted.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return nil }
                number = next
            }
            return JobHandle(number)
        }
    }

    public func parse(_ string: String) -> JobHandle? {
        parse(ByteBuffer(string: string))
    }
}
