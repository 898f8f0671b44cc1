import NIOCore

/// What the public client asks of a connection's channel handler, sent down the pipeline as a write.
enum ClientCommand: @unchecked Sendable {
    case send(PendingRequest, ClientConnectionStateMachine.Request, timeout: TimeAmount?)
    case cancel(PendingRequest)
}
