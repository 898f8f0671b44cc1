import NIOCore

/// What a running job, or the worker, asks of a connection's channel handler, sent as a write.
enum WorkerCommand: Sendable {
    case data(handle: ByteBuffer, ByteBuffer)
    case warning(handle: ByteBuffer, ByteBuffer)
    case status(handle: ByteBuffer, numerator: UInt32, denominator: UInt32)
    case finish(handle: ByteBuffer, WorkerConnectionStateMachine.Outcome)
    case drain
}
