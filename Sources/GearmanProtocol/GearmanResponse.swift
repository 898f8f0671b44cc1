import NIOCore

/// A packet sent by a job server to a client or a worker.
public enum GearmanResponse: Sendable, Hashable {
    // Workers
    case noop
    case noJob
    case jobAssign(handle: ByteBuffer, function: ByteBuffer, workload: ByteBuffer)
    case jobAssignUnique(handle: ByteBuffer, function: ByteBuffer, unique: ByteBuffer, workload: ByteBuffer)
    case jobAssignAll(
        handle: ByteBuffer, function: ByteBuffer, unique: ByteBuffer, reducer: ByteBuffer, workload: ByteBuffer)
    // Clients
    case jobCreated(handle: ByteBuffer)
    case workData(handle: ByteBuffer, data: ByteBuffer)
    case workWarning(handle: ByteBuffer, data: ByteBuffer)
    case workStatus(handle: ByteBuffer, numerator: ByteBuffer, denominator: ByteBuffer)
    case workComplete(handle: ByteBuffer, data: ByteBuffer)
    case workFail(handle: ByteBuffer)
    case workException(handle: ByteBuffer, data: ByteBuffer)
    case status(GearmanJobStatus)
    case statusUnique(GearmanJobStatus)
    // Both
    case echo(ByteBuffer)
    case option(ByteBuffer)
    case error(code: String, message: String)

    public var packetType: GearmanPacketType {
        switch self {
        case .noop: .noop
        case .noJob: .noJob
        case .jobAssign: .jobAssign
        case .jobAssignUnique: .jobAssignUnique
        case .jobAssignAll: .jobAssignAll
        case .jobCreated: .jobCreated
        case .workData: .workData
        case .workWarning: .workWarning
        case .workStatus: .workStatus
        case .workComplete: .workComplete
        case .workFail: .workFail
        case .workException: .workException
        case .status: .statusResponse
        case .statusUnique: .statusResponseUnique
        case .echo: .echoResponse
        case .option: .optionResponse
        case .error: .error
        }
    }

    public static func error(_ error: GearmanProtocolError) -> Self {
        .error(code: error.code, message: error.message)
    }
}

extension GearmanResponse {
    /// Decodes a response from a framed packet, as a client or worker reads it.
    public init(packet: GearmanPacket) throws {
        guard packet.magic == .response else {
            throw GearmanProtocolError.invalidMagic(packet.magic.rawValue)
        }
        let type = packet.type
        guard type.isResponse else {
            throw GearmanProtocolError.unexpectedPacket(type, magic: .response)
        }
        func reader(_ expected: Int) -> GearmanArgumentReader {
            GearmanArgumentReader(packet.body, type: type, expected: expected)
        }
        switch type {
        case .noop:
            self = .noop
        case .noJob:
            self = .noJob
        case .jobAssign:
            var args = reader(3)
            self = .jobAssign(handle: try args.next(), function: try args.next(), workload: args.rest())
        case .jobAssignUnique:
            var args = reader(4)
            self = .jobAssignUnique(
                handle: try args.next(), function: try args.next(), unique: try args.next(), workload: args.rest())
        case .jobAssignAll:
            var args = reader(5)
            self = .jobAssignAll(
                handle: try args.next(), function: try args.next(), unique: try args.next(),
                reducer: try args.next(), workload: args.rest())
        case .jobCreated:
            var args = reader(1)
            self = .jobCreated(handle: args.rest())
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
            var args = reader(2)
            self = .workComplete(handle: try args.next(), data: args.rest())
        case .workFail:
            var args = reader(1)
            self = .workFail(handle: args.rest())
        case .workException:
            var args = reader(2)
            self = .workException(handle: try args.next(), data: args.rest())
        case .statusResponse:
            var args = reader(5)
            let handle = try args.next()
            let known = try args.nextNumber(UInt32.self, named: "known flag")
            let running = try args.nextNumber(UInt32.self, named: "running flag")
            let numerator = try args.nextNumber(UInt32.self, named: "numerator")
            let denominator = try args.nextNumber(UInt32.self, named: "denominator", last: true)
            self = .status(
                GearmanJobStatus(
                    key: handle, isKnown: known != 0, isRunning: running != 0, numerator: numerator,
                    denominator: denominator))
        case .statusResponseUnique:
            var args = reader(6)
            let unique = try args.next()
            let known = try args.nextNumber(UInt32.self, named: "known flag")
            let running = try args.nextNumber(UInt32.self, named: "running flag")
            let numerator = try args.nextNumber(UInt32.self, named: "numerator")
            let denominator = try args.nextNumber(UInt32.self, named: "denominator")
            let clients = try args.nextNumber(UInt32.self, named: "client count", last: true)
            self = .statusUnique(
                GearmanJobStatus(
                    key: unique, isKnown: known != 0, isRunning: running != 0, numerator: numerator,
                    denominator: denominator, waitingClients: clients))
        case .echoResponse:
            var args = reader(1)
            self = .echo(args.rest())
        case .optionResponse:
            var args = reader(1)
            self = .option(args.rest())
        case .error:
            var args = reader(2)
            let code = try args.next()
            let message = args.rest()
            self = .error(code: String(buffer: code), message: String(buffer: message))
        default:
            throw GearmanProtocolError.unexpectedPacket(type, magic: .response)
        }
    }

    /// Appends the response as one packet.
    public func encode(into buffer: inout ByteBuffer) {
        encode(into: &buffer, largeDataByReference: false)
    }

    /// Appends the response as one packet. With `largeDataByReference`, a workload or result of
    /// `GearmanPacketWriter.referenceThreshold` bytes or more is left out and returned, to be written by
    /// reference right after the appended bytes.
    @discardableResult
    public func encode(into buffer: inout ByteBuffer, largeDataByReference: Bool) -> ByteBuffer? {
        let type = packetType
        switch self {
        case .noop, .noJob:
            return GearmanPacketWriter.write(.response, type, into: &buffer)
        case .jobCreated(let data), .workFail(let data), .echo(let data), .option(let data):
            return GearmanPacketWriter.write(.response, type, last: data, into: &buffer)
        case .workData(let handle, let data), .workWarning(let handle, let data),
            .workComplete(let handle, let data), .workException(let handle, let data):
            return GearmanPacketWriter.write(
                .response, type, handle, last: data, lastByReference: largeDataByReference, into: &buffer)
        case .workStatus(let handle, let numerator, let denominator):
            return GearmanPacketWriter.write(.response, type, handle, numerator, last: denominator, into: &buffer)
        case .jobAssign(let handle, let function, let workload):
            return GearmanPacketWriter.write(
                .response, type, handle, function, last: workload, lastByReference: largeDataByReference,
                into: &buffer)
        case .jobAssignUnique(let handle, let function, let unique, let workload):
            return GearmanPacketWriter.write(
                .response, type, handle, function, unique, last: workload, lastByReference: largeDataByReference,
                into: &buffer)
        case .jobAssignAll(let handle, let function, let unique, let reducer, let workload):
            buffer.writeGearmanPacket(.response, type) { body in
                body.writeGearmanArgument(handle)
                body.writeGearmanArgument(function)
                body.writeGearmanArgument(unique)
                body.writeGearmanArgument(reducer)
                body.writeImmutableBuffer(workload)
            }
        case .status(let status):
            buffer.writeGearmanPacket(.response, type) { body in
                body.writeGearmanArgument(status.key)
                body.writeGearmanArgument(number: status.isKnown ? 1 : 0)
                body.writeGearmanArgument(number: status.isRunning ? 1 : 0)
                body.writeGearmanArgument(number: status.numerator)
                body.writeString(String(status.denominator))
            }
        case .statusUnique(let status):
            buffer.writeGearmanPacket(.response, type) { body in
                body.writeGearmanArgument(status.key)
                body.writeGearmanArgument(number: status.isKnown ? 1 : 0)
                body.writeGearmanArgument(number: status.isRunning ? 1 : 0)
                body.writeGearmanArgument(number: status.numerator)
                body.writeGearmanArgument(number: status.denominator)
                body.writeString(String(status.waitingClients))
            }
        case .error(let code, let message):
            buffer.writeGearmanPacket(.response, type) { body in
                body.writeGearmanArgument(code)
                body.writeString(message)
            }
        }
        return nil
    }
}
