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
    /// Rewrite the progress of a job's row (a failed attempt, a dead letter, a retried one). Needs no answer.
    case update(StoredJob)
    /// Tell the event hooks (`--webhook`); only when `Configuration.reportsEvents` is set.
    case event(JobEvent)
}

/// A message for one connection. Handles are written by the channel layer from the job's number.
public enum ServerMessage: Sendable {
    case response(GearmanResponse)
    case jobCreated(JobHandle)
    case workFail(JobHandle)
    /// A result answered from the `ResultCache`, under the handle of a job that never was.
    case workComplete(JobHandle, data: ByteBuffer)
    case jobAssign(
        JobHandle, GearmanGrabMode, function: ByteBuffer, unique: ByteBuffer, reducer: ByteBuffer?, workload: ByteBuffer
    )
    case admin(GearmanAdminReply)
    /// Holds the connection's later messages back until the job's row is committed: JOB_CREATED for a
    /// background job is sent only once the job is on disk, in the order of the client's requests.
    case jobCreatedWhenStored(JobHandle)
    /// Releases what `jobCreatedWhenStored` held: JOB_CREATED, or, with a failure, ERROR QUEUE_ERROR.
    case stored(JobHandle, failure: String?)
    /// The admin `show store` table, which the channel layer fills in from the store's writer.
    case storeStatus
    /// The admin `show servers` table, which the channel layer fills in from the store's last look at its
    /// group.
    case storeGroupStatus
}

extension ServerMessage {
    /// Appends the message's bytes.
    public func encode(into buffer: inout ByteBuffer, handles: JobHandleFormat) {
        encode(into: &buffer, handles: handles, largeDataByReference: false)
    }

    /// Appends the message's bytes. With `largeDataByReference`, a workload or result of
    /// `GearmanPacketWriter.referenceThreshold` bytes or more at the end of the packet is left out and
    /// returned, to be written by reference right after the appended bytes.
    @discardableResult
    public func encode(into buffer: inout ByteBuffer, handles: JobHandleFormat, largeDataByReference: Bool)
        -> ByteBuffer?
    {
        switch self {
        case .response(let response):
            return response.encode(into: &buffer, largeDataByReference: largeDataByReference)
        case .jobCreated(let handle), .stored(let handle, failure: nil):
            return GearmanPacketWriter.write(.response, .jobCreated, handle: handle, handles: handles, into: &buffer)
        case .workFail(let handle):
            return GearmanPacketWriter.write(.response, .workFail, handle: handle, handles: handles, into: &buffer)
        case .workComplete(let handle, let data):
            return GearmanPacketWriter.write(
                .response, .workComplete, handle: handle, handles: handles, last: data,
                lastByReference: largeDataByReference, into: &buffer)
        case .jobAssign(let handle, .plain, let function, _, _, let workload):
            return GearmanPacketWriter.write(
                .response, .jobAssign, handle: handle, handles: handles, function, last: workload,
                lastByReference: largeDataByReference, into: &buffer)
        case .jobAssign(let handle, .unique, let function, let unique, _, let workload),
            .jobAssign(let handle, .all, let function, let unique, nil, let workload):
            return GearmanPacketWriter.write(
                .response, .jobAssignUnique, handle: handle, handles: handles, function, unique, last: workload,
                lastByReference: largeDataByReference, into: &buffer)
        case .jobAssign(let handle, .all, let function, let unique, let reducer?, let workload):
            return GearmanPacketWriter.write(
                .response, .jobAssignAll, handle: handle, handles: handles, function, unique, reducer, last: workload,
                lastByReference: largeDataByReference, into: &buffer)
        case .admin(let reply):
            reply.encode(into: &buffer)
        case .jobCreatedWhenStored:
            break
        case .storeStatus:
            GearmanAdminReply.storeStatus(location: "memory", unwritten: 0, transactions: 0, failure: nil)
                .encode(into: &buffer)
        case .storeGroupStatus:
            GearmanAdminReply.notInStoreGroup.encode(into: &buffer)
        case .stored(_, let failure?):
            GearmanResponse.error(code: "QUEUE_ERROR", message: failure).encode(into: &buffer)
        }
        return nil
    }
}
