import GearmanProtocol
import NIOCore

/// What a caller asks of a server over a client connection.
enum ClientRequest: Sendable {
    case submit(GearmanSubmitJob)
    case status(handle: String)
    case statusUnique(unique: String)
    case echo(ByteBuffer)
}
