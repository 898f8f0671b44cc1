import NIOCore

/// The arguments of every SUBMIT_JOB variant. Which packet type carries it follows from its fields.
public struct GearmanSubmitJob: Sendable, Hashable {
    public var function: ByteBuffer
    public var unique: ByteBuffer
    public var workload: ByteBuffer
    public var priority: GearmanPriority
    public var isBackground: Bool
    /// Unix time at which the job should run (SUBMIT_JOB_EPOCH, always background and normal priority),
    /// within `validEpochs` when it came from the wire.
    public var epoch: Int64?

    /// The epochs a SUBMIT_JOB_EPOCH may carry: from 1970 to the last second of the year 9999.
    public static let validEpochs: ClosedRange<Int64> = 0...253_402_300_799
    /// The reducer of a SUBMIT_REDUCE_JOB.
    public var reducer: ByteBuffer?
    /// The argument libgearman calls the aggregator; gearmand ignores it.
    public var aggregator: ByteBuffer

    public init(
        function: ByteBuffer,
        unique: ByteBuffer = ByteBuffer(),
        workload: ByteBuffer,
        priority: GearmanPriority = .normal,
        isBackground: Bool = false,
        epoch: Int64? = nil,
        reducer: ByteBuffer? = nil,
        aggregator: ByteBuffer = ByteBuffer()
    ) {
        self.function = function
        self.unique = unique
        self.workload = workload
        self.priority = priority
        self.isBackground = isBackground || epoch != nil
        self.epoch = epoch
        self.reducer = reducer
        self.aggregator = aggregator
    }

    public var packetType: GearmanPacketType {
        if epoch != nil { return .submitJobEpoch }
        if reducer != nil { return isBackground ? .submitReduceJobBackground : .submitReduceJob }
        switch (priority, isBackground) {
        case (.high, false): return .submitJobHigh
        case (.high, true): return .submitJobHighBackground
        case (.normal, false): return .submitJob
        case (.normal, true): return .submitJobBackground
        case (.low, false): return .submitJobLow
        case (.low, true): return .submitJobLowBackground
        }
    }
}

/// The five cron-like fields of SUBMIT_JOB_SCHED, kept as sent: the packet is decoded only to be refused.
public struct GearmanSchedule: Sendable, Hashable {
    public var minute: ByteBuffer
    public var hour: ByteBuffer
    public var dayOfMonth: ByteBuffer
    public var month: ByteBuffer
    public var dayOfWeek: ByteBuffer

    public init(minute: ByteBuffer, hour: ByteBuffer, dayOfMonth: ByteBuffer, month: ByteBuffer, dayOfWeek: ByteBuffer)
    {
        self.minute = minute
        self.hour = hour
        self.dayOfMonth = dayOfMonth
        self.month = month
        self.dayOfWeek = dayOfWeek
    }
}
