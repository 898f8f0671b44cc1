import NIOCore

/// A job handed to a worker function: what the client submitted, and a way to report progress while it runs.
public struct GearmanJob: Sendable {
    public let handle: String
    public let function: String
    public let unique: String
    public let workload: ByteBuffer
    /// The server the job came from.
    public let server: GearmanServerAddress

    let rawHandle: ByteBuffer
    let channel: any Channel

    init(_ job: WorkerConnectionStateMachine.AssignedJob, server: GearmanServerAddress, channel: any Channel) {
        self.handle = String(buffer: job.handle)
        self.function = job.function
        self.unique = job.unique
        self.workload = job.workload
        self.server = server
        self.rawHandle = job.handle
        self.channel = channel
    }

    /// Sends WORK_DATA: a piece of the result that a streaming client sees at once.
    public func sendData(_ data: ByteBuffer) async throws {
        try await channel.writeAndFlush(WorkerCommand.data(handle: rawHandle, data))
    }

    public func sendData(_ bytes: some Collection<UInt8>) async throws {
        try await sendData(ByteBuffer(bytes: bytes))
    }

    /// Sends WORK_WARNING.
    public func sendWarning(_ data: ByteBuffer) async throws {
        try await channel.writeAndFlush(WorkerCommand.warning(handle: rawHandle, data))
    }

    public func sendWarning(_ text: String) async throws {
        try await sendWarning(ByteBuffer(string: text))
    }

    /// Sends WORK_STATUS: how far the job has come, as `numerator` out of `denominator`.
    public func sendStatus(numerator: UInt32, denominator: UInt32) async throws {
        try await channel.writeAndFlush(
            WorkerCommand.status(handle: rawHandle, numerator: numerator, denominator: denominator))
    }
}

/// Thrown by a worker function to make the job fail with WORK_FAIL, which carries no message.
/// Any other error becomes WORK_EXCEPTION with the error's description.
public struct GearmanWorkFailure: Error, Sendable, Hashable {
    public init() {}
}
