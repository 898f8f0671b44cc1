import NIOCore

/// A packet sent to a job server by a client or a worker, with its arguments as slices of the packet body.
public enum GearmanRequest: Sendable, Hashable {
    // Workers
    case canDo(function: ByteBuffer)
    /// `timeout` is in milliseconds, as gearmand 1.1.19 and later read it.
    case canDoTimeout(function: ByteBuffer, timeout: UInt32)
    case cantDo(function: ByteBuffer)
    case resetAbilities
    case preSleep
    case grabJob(GearmanGrabMode)
    case setClientID(ByteBuffer)
    case allYours
    case workData(handle: ByteBuffer, data: ByteBuffer)
    case workWarning(handle: ByteBuffer, data: ByteBuffer)
    case workStatus(handle: ByteBuffer, numerator: ByteBuffer, denominator: ByteBuffer)
    case workComplete(handle: ByteBuffer, data: ByteBuffer)
    case workFail(handle: ByteBuffer)
    case workException(handle: ByteBuffer, data: ByteBuffer)
    // Clients
    case submitJob(GearmanSubmitJob)
    case submitJobScheduled(GearmanSubmitJob, GearmanSchedule)
    case getStatus(handle: ByteBuffer)
    case getStatusUnique(unique: ByteBuffer)
    // Both
    case echo(ByteBuffer)
    case option(ByteBuffer)

    public var packetType: GearmanPacketType {
        switch self {
        case .canDo: .canDo
        case .canDoTimeout: .canDoTimeout
        case .cantDo: .cantDo
        case .resetAbilities: .resetAbilities
        case .preSleep: .preSleep
        case .grabJob(.plain): .grabJob
        case .grabJob(.unique): .grabJobUnique
        case .grabJob(.all): .grabJobAll
        case .setClientID: .setClientID
        case .allYours: .allYours
        case .workData: .workData
        case .workWarning: .workWarning
        case .workStatus: .workStatus
        case .workComplete: .workComplete
        case .workFail: .workFail
        case .workException: .workException
        case .submitJob(let job): job.packetType
        case .submitJobScheduled: .submitJobScheduled
        case .getStatus: .getStatus
        case .getStatusUnique: .getStatusUnique
        case .echo: .echoRequest
        case .option: .optionRequest
        }
    }
}

extension GearmanRequest {
    /// Decodes a request from a framed packet. Throws the error a server answers with when the packet has the
    /// wrong magic, is a response type, or lacks arguments.
    public init(packet: GearmanPacket) throws {
        guard packet.magic == .request else {
            throw GearmanProtocolError.invalidMagic(packet.magic.rawValue)
        }
        let type = packet.type
        guard type.isRequest else {
            throw GearmanProtocolError.unexpectedPacket(type, magic: .request)
        }
        func reader(_ expected: Int) -> GearmanArgumentReader {
            GearmanArgumentReader(packet.body, type: type, expected: expected)
        }
        switch type {
        case .canDo:
            var args = reader(1)
            self = .canDo(function: args.rest())
        case .canDoTimeout:
            var args = reader(2)
            let function = try args.next()
            self = .canDoTimeout(
                function: function, timeout: try args.nextNumber(UInt32.self, named: "timeout", last: true))
        case .cantDo:
            var args = reader(1)
            self = .cantDo(function: args.rest())
        case .resetAbilities:
            self = .resetAbilities
        case .preSleep:
            self = .preSleep
        case .grabJob:
            self = .grabJob(.plain)
        case .grabJobUnique:
            self = .grabJob(.unique)
        case .grabJobAll:
            self = .grabJob(.all)
        case .setClientID:
            var args = reader(1)
            self = .setClientID(args.rest())
        case .allYours:
            self = .allYours
        case .workData:
            var args = reader(2)
            self = .workData(handle: try args.next(), data: args.rest())
        case .workWarning:
            var args = reader(2)
            self = .workWarning(handle: try args.next(), data: args.rest())
        case .workStatus:
            var args = reader(3)
            self = .workStatus(handle: try args.next(), numerator: try args.next(), denominator: args.rest())
        case .workComplete:
            let (handle, data) = try packet.handleAndData()
            self = .workComplete(handle: handle, data: data)
        case .workFail:
            var args = reader(1)
            self = .workFail(handle: args.rest())
        case .workException:
            var args = reader(2)
            self = .workException(handle: try args.next(), data: args.rest())
        case .submitJob, .submitJobBackground, .submitJobHigh, .submitJobHighBackground, .submitJobLow,
            .submitJobLowBackground:
            self = .submitJob(try GearmanSubmitJob(plainSubmission: packet))
        case .submitJobEpoch:
            var args = reader(4)
            let function = try args.next()
            let unique = try args.next()
            let epoch = try args.nextNumber(Int64.self, named: "epoch", in: GearmanSubmitJob.validEpochs)
            self = .submitJob(
                GearmanSubmitJob(function: function, unique: unique, workload: args.rest(), epoch: epoch))
        case .submitReduceJob, .submitReduceJobBackground:
            var args = reader(5)
            let function = try args.next()
            let unique = try args.next()
            let reducer = try args.next()
            let aggregator = try args.next()
            self = .submitJob(
                GearmanSubmitJob(
                    function: function, unique: unique, workload: args.rest(),
                    isBackground: type == .submitReduceJobBackground, reducer: reducer, aggregator: aggregator))
        case .submitJobScheduled:
            var args = reader(8)
            let function = try args.next()
            let unique = try args.next()
            let schedule = GearmanSchedule(
                minute: try args.next(), hour: try args.next(), dayOfMonth: try args.next(),
                month: try args.next(), dayOfWeek: try args.next())
            self = .submitJobScheduled(
                GearmanSubmitJob(function: function, unique: unique, workload: args.rest(), isBackground: true),
                schedule)
        case .getStatus:
            var args = reader(1)
            self = .getStatus(handle: args.rest())
        case .getStatusUnique:
            var args = reader(1)
            self = .getStatusUnique(unique: args.rest())
        case .echoRequest:
            var args = reader(1)
            self = .echo(args.rest())
        case .optionRequest:
            var args = reader(1)
            self = .option(args.rest())
        case .noop, .jobCreated, .noJob, .jobAssign, .echoResponse, .error, .statusResponse, .optionResponse,
            .jobAssignUnique, .jobAssignAll, .statusResponseUnique:
            throw GearmanProtocolError.unexpectedPacket(type, magic: .request)
        }
    }

    /// Appends the request as one packet.
    public func encode(into buffer: inout ByteBuffer) {
        encode(into: &buffer, largeDataByReference: false)
    }

    /// Appends the request as one packet. With `largeDataByReference`, a workload or result of
    /// `GearmanPacketWriter.referenceThreshold` bytes or more is left out and returned, to be written by
    /// reference right after the appended bytes.
    @discardableResult
    public func encode(into buffer: inout ByteBuffer, largeDataByReference: Bool) -> ByteBuffer? {
        let type = packetType
        switch self {
        case .resetAbilities, .preSleep, .grabJob, .allYours:
            return GearmanPacketWriter.write(.request, type, into: &buffer)
        case .canDo(let data), .cantDo(let data), .setClientID(let data), .echo(let data), .option(let data),
            .workFail(let data), .getStatus(let data), .getStatusUnique(let data):
            return GearmanPacketWriter.write(.request, type, last: data, into: &buffer)
        case .workData(let handle, let data), .workWarning(let handle, let data),
            .workComplete(let handle, let data), .workException(let handle, let data):
            return GearmanPacketWriter.write(
                .request, type, handle, last: data, lastByReference: largeDataByReference, into: &buffer)
        case .workStatus(let handle, let numerator, let denominator):
            return GearmanPacketWriter.write(.request, type, handle, numerator, last: denominator, into: &buffer)
        case .submitJob(let job) where job.epoch == nil && job.reducer == nil:
            return GearmanPacketWriter.write(
                .request, type, job.function, job.unique, last: job.workload, lastByReference: largeDataByReference,
                into: &buffer)
        case .canDoTimeout(let function, let timeout):
            buffer.writeGearmanPacket(.request, type) { body in
                body.writeGearmanArgument(function)
                body.writeString(String(timeout))
            }
        case .submitJob(let job):
            buffer.writeGearmanPacket(.request, type) { body in
                body.writeGearmanArgument(job.function)
                body.writeGearmanArgument(job.unique)
                if let epoch = job.epoch {
                    body.writeGearmanArgument(number: epoch)
                } else if let reducer = job.reducer {
                    body.writeGearmanArgument(reducer)
                    body.writeGearmanArgument(job.aggregator)
                }
                body.writeImmutableBuffer(job.workload)
            }
        case .submitJobScheduled(let job, let schedule):
            buffer.writeGearmanPacket(.request, type) { body in
                body.writeGearmanArgument(job.function)
                body.writeGearmanArgument(job.unique)
                body.writeGearmanArgument(schedule.minute)
                body.writeGearmanArgument(schedule.hour)
                body.writeGearmanArgument(schedule.dayOfMonth)
                body.writeGearmanArgument(schedule.month)
                body.writeGearmanArgument(schedule.dayOfWeek)
                body.writeImmutableBuffer(job.workload)
            }
        }
        return nil
    }
}
