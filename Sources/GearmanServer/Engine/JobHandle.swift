import NIOCore

/// A job's number. On the wire it reads `H:<prefix>:<number>`; see `JobHandleFormat`.
public struct JobHandle: Hashable, Sendable, Comparable {
    public let number: UInt64

    public init(_ number: UInt64) {
        self.number = number
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.number < rhs.number }
}

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
        buffer.writeString(String(handle.number))
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
        guard bytes.readableBytes > leadLength,
            bytes.readableBytesView.starts(with: lead.readableBytesView),
            let digits = bytes.getSlice(at: bytes.readerIndex + leadLength, length: bytes.readableBytes - leadLength),
            let number = UInt64(decimal: digits)
        else {
            return nil
        }
        return JobHandle(number)
    }

    public func parse(_ string: String) -> JobHandle? {
        parse(ByteBuffer(string: string))
    }
}
