import NIOCore

/// What a running job reports to the client that waits for it. A stream of events ends with `.complete`.
public enum GearmanJobEvent: Sendable, Hashable {
    /// The handle the server assigned, always the first event.
    case created(GearmanJobHandle)
    case data(ByteBuffer)
    case warning(ByteBuffer)
    case status(numerator: UInt32, denominator: UInt32)
    case complete(ByteBuffer)
}
