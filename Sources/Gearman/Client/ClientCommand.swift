import NIOCore

/// What the public client asks of a connection's channel handler, sent down the pipeline as a write.
enum ClientCommand: Sendable {
    case send(PendingRequest, ClientRequest, timeout: TimeAmount?)
    case cancel(PendingRequest)
}
