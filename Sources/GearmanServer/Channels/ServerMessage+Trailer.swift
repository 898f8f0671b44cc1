import GearmanProtocol
import NIOCore

extension ServerMessage {
    /// Below this many bytes a workload is copied into the outgoing buffer; from it on, it is written by
    /// reference (a separate buffer in the same vector write), which spares copying image-sized jobs.
    static let copyLimit = 8 * 1024

    /// Appends the message like `encode(into:handles:)`, but when it ends with a workload or result of at
    /// least `copyLimit` bytes, appends all but those bytes (with the packet's full length in its header)
    /// and returns them, to be written right after.
    func encodeHead(into buffer: inout ByteBuffer, handles: JobHandleFormat) -> ByteBuffer? {
        let type: GearmanPacketType
        let trailer: ByteBuffer
        switch self {
        case .jobAssign(_, let mode, _, _, let reducer, let workload) where workload.readableBytes >= Self.copyLimit:
            switch mode {
            case .plain: type = .jobAssign
            case .unique: type = .jobAssignUnique
            case .all: type = reducer == nil ? .jobAssignUnique : .jobAssignAll
            }
            trailer = workload
        case .response(.workComplete(_, let data)) where data.readableBytes >= Self.copyLimit:
            type = .workComplete
            trailer = data
        case .response(.workData(_, let data)) where data.readableBytes >= Self.copyLimit:
            type = .workData
            trailer = data
        default:
            encodeFast(into: &buffer, handles: handles)
            return nil
        }
        let start = buffer.writerIndex
        buffer.writeGearmanPacket(.response, type) { body in
            switch self {
            case .jobAssign(let handle, _, let function, let unique, let reducer, _):
                handles.write(handle, into: &body)
                body.writeInteger(UInt8(0))
                body.writeGearmanArgument(function)
                if type != .jobAssign {
                    body.writeGearmanArgument(unique)
                }
                if type == .jobAssignAll, let reducer {
                    body.writeGearmanArgument(reducer)
                }
            case .response(.workComplete(let handle, _)), .response(.workData(let handle, _)):
                body.writeGearmanArgument(handle)
            default:
                preconditionFailure("no trailer for \(self)")
            }
        }
        let headLength = buffer.getInteger(at: start + 8, as: UInt32.self)!
        buffer.setInteger(headLength + UInt32(trailer.readableBytes), at: start + 8)
        return trailer
    }
}
