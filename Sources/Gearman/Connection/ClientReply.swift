import GearmanProtocol
import NIOCore

/// What a finished client request yields.
enum ClientReply: Sendable, Hashable {
    case result(ByteBuffer)
    case created(handle: String)
    case status(GearmanJobStatus)
    case echo(ByteBuffer)
}
