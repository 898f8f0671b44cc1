import GearmanProtocol
import NIOCore

/// What the engine asks its channel layer to do after an event.
public enum ServerAction: Sendable {
    case send(ConnectionID, ServerMessage)
    /// Close after what was sent before has been written.
    case close(ConnectionID)
    /// Call `jobTimedOut(_:attempt:)` after this many milliseconds.
    case startJobTimeout(JobHandle, attempt: UInt32, milliseconds: UInt32)
    /// Call `releaseDueJobs(now:)` at this Unix time; replaces any earlier request.
    case scheduleEpochWakeup(at: Int64)
    case shutdown(graceful: Bool)
    /// Write this background job's row; answer with `jobsStored` or `jobsNotStored`, passing the receipt
    /// back, which names the client to acknowledge.
    case store(StoredJob, StoreReceipt)
    /// Delete the row of a job that ended. Needs no answer.
    case forget(JobHandle)
}

/// A message for one connection. Handles are written by the channel layer from the job's number.
public enum ServerMessage: Sendable {
    case response(GearmanResponse)
    case jobCreated(JobHandle)
    case workFail(JobHandle)
    case jobAssign(
        JobHandle, GearmanGrabMode, function: ByteBuffer, unique: ByteBuffer, reducer: ByteBuffer?, workload: ByteBuffer)
    case admin(GearmanAdminReply)
    /// Holds the connection's later messages back until the job's row is committed: JOB_CREATED for a
    /// background job is sent only once the job is on disk, in the order of the client's requests.
    case jobCreatedWhenStored(JobHandle)
    /// Releases what `jobCreatedWhenStored` held: JOB_CREATED, or, with a failure, ERROR QUEUE_ERROR.
    case stored(JobHandle, failure: String?)
    /// The admin `show store` table, which the channel layer fills in from the store's writer.
    case storeStatus
}

extension ServerMessage {
    /// Appends the message's bytes.
    public func encode(into buffer: inout ByteBuffer, handles: JobHandleFormat) {
        switch self {
        case .response(let response):
            response.encode(into: &buffer)
        case .jobCreated(let handle):
            buffer.writeGearmanPacket(.response, .jobCreated) { handles.write(handle, into: &$0) }
        case .workFail(let handle):
            buffer.writeGearmanPacket(.response, .workFail) { handles.write(handle, into: &$0) }
        case .jobAssign(let handle, let mode, let function, let unique, let reducer, let workload):
            let type: GearmanPacketType
            switch mode {
            case .plain: type = .jobAssign
            case .unique: type = .jobAssignUnique
            case .all: type = reducer == nil ? .jobAssignUnique : .jobAssignAll
            }
            buffer.writeGearmanPacket(.response, type) { body in
                handles.write(handle, into: &body)
                body.writeInteger(UInt8(0))
                body.writeGearmanArgument(function)
                if type != .jobAssign {
                    body.writeGearmanArgument(unique)
                }
                if type == .jobAssignAll, let reducer {
                    body.writeGearmanArgument(reducer)
                }
                body.writeImmutableBuffer(workload)
            }
        case .admin(let reply):
            reply.encode(into: &buffer)
        case .jobCreatedWhenStored:
            break
        case .storeStatus:
            GearmanAdminReply.storeStatus(location: "memory", unwritten: 0, transactions: 0, failure: nil)
                .encode(into: &buffer)
        case .stored(let handle, nil):
            buffer.writeGearmanPacket(.response, .jobCreated) { handles.write(handle, into: &$0) }
        case .stored(_, let failure?):
            GearmanResponse.error(code: "QUEUE_ERROR", message: failure).encode(into: &buffer)
        }
    }
}
