import NIOCore

/// The answer to GET_STATUS (STATUS_RES) or GET_STATUS_UNIQUE (STATUS_RES_UNIQUE).
public struct GearmanJobStatus: Sendable, Hashable {
    /// The job handle for STATUS_RES, the unique key for STATUS_RES_UNIQUE.
    public var key: ByteBuffer
    public var isKnown: Bool
    public var isRunning: Bool
    public var numerator: UInt32
    public var denominator: UInt32
    /// How many clients wait for the job; STATUS_RES_UNIQUE only.
    public var waitingClients: UInt32

    public init(
        key: ByteBuffer, isKnown: Bool, isRunning: Bool, numerator: UInt32 = 0, denominator: UInt32 = 0,
        waitingClients: UInt32 = 0
    ) {
        self.key = key
        self.isKnown = isKnown
        self.isRunning = isRunning
        self.numerator = numerator
        self.denominator = denominator
        self.waitingClients = waitingClients
    }
}
