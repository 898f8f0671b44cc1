import Foundation
import GearmanProtocol
import NIOCore
import TestSupport
import Testing

/// Malformed input over real sockets: the sender is told and disconnected, and nobody else notices.
@Suite(.serialized) struct BadInputTests {
    private func expectErrorThenClose(
        _ bytes: [UInt8], code: String, port: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let connection = try await RawConnection(port: port)
        try await connection.send(bytes)
        let response = try await connection.receive().first
        guard case .error(let actual, let message) = response else {
            Issue.record("expected ERROR, got \(String(describing: response))", sourceLocation: sourceLocation)
            return
        }
        #expect(actual == code, "\(message)", sourceLocation: sourceLocation)
        #expect(try await connection.isClosedByPeer(), sourceLocation: sourceLocation)
    }

    private func header(magic: UInt32 = 0x0052_4551, type: UInt32, length: UInt32) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(magic, type, length)
        return Array(buffer.readableBytesView)
    }

    @Test func everyKindOfBadPacketGetsAnErrorAndAClose() async throws {
        try await withGearboxServer(maximumPacketSize: 1024 * 1024) { server in
            let port = server.port
            try await expectErrorThenClose(header(type: 7, length: 0xFFFF_FFF0), code: "ARGUMENT_TOO_LARGE", port: port)
            try await expectErrorThenClose(
                header(type: 16, length: 1024 * 1024 + 1), code: "ARGUMENT_TOO_LARGE", port: port)
            try await expectErrorThenClose(
                header(magic: 0x0058_595A, type: 16, length: 0), code: "INVALID_MAGIC", port: port)
            try await expectErrorThenClose(
                header(magic: 0x0052_4553, type: 16, length: 0), code: "INVALID_MAGIC", port: port)
            for type: UInt32 in [0, 5, 43, 0xFFFF_FFFF] {
                try await expectErrorThenClose(header(type: type, length: 0), code: "INVALID_COMMAND", port: port)
            }
            try await expectErrorThenClose(header(type: 8, length: 0), code: "INVALID_COMMAND", port: port)
            try await expectErrorThenClose(
                header(type: 7, length: 3) + Array("abc".utf8), code: "INVALID_PACKET", port: port)
        }
    }

    /// Found by the TCP fuzzer: SUBMIT_JOB_EPOCH with the epoch 111111111111 overflowed the timer's
    /// nanoseconds and stopped the server. Epochs past the year 9999 are refused; those before it are timed.
    @Test func farFutureEpochsNeitherStopTheServerNorDisturbOthers() async throws {
        try await withGearboxServer { server in
            let bystander = try await RawConnection(port: server.port)
            for epoch in ["111111111111111", "-1", "9223372036854775807"] {
                let body = Array("later\0\0\(epoch)\0x".utf8)
                try await expectErrorThenClose(
                    header(type: 36, length: UInt32(body.count)) + body, code: "INVALID_PACKET", port: server.port)
            }
            let client = try await RawConnection(port: server.port)
            for epoch: Int64 in [111_111_111_111, GearmanSubmitJob.validEpochs.upperBound] {
                try await client.send(
                    .submitJob(
                        GearmanSubmitJob(
                            function: ByteBuffer(string: "later"), workload: ByteBuffer(string: "x"), epoch: epoch)))
                guard case .jobCreated = try await client.receive().first else {
                    throw TestFailure("no JOB_CREATED for \(epoch)")
                }
            }
            try await bystander.send(.echo(ByteBuffer(string: "still here")))
            #expect(try await bystander.receive() == [.echo(ByteBuffer(string: "still here"))])
            try await bystander.send(line: "status")
            #expect(try await bystander.receiveAdminReply().contains("later\t2\t0\t0\n"))
        }
    }

    @Test func aPacketJustUnderTheLimitIsServed() async throws {
        try await withGearboxServer(maximumPacketSize: 1024 * 1024) { server in
            let connection = try await RawConnection(port: server.port)
            let payload = ByteBuffer(repeating: 0x41, count: 1024 * 1024)
            try await connection.send(.echo(payload))
            #expect(try await connection.receive() == [.echo(payload)])
        }
    }

    @Test func garbageOnOneConnectionDoesNotDisturbOthers() async throws {
        try await withGearboxServer { server in
            let client = try await RawConnection(port: server.port)
            let worker = try await RawConnection(port: server.port)
            try await worker.send(.canDo(function: ByteBuffer(string: "reverse")))
            var random = SystemRandomNumberGenerator()
            for round in 0..<50 {
                let vandal = try await RawConnection(port: server.port)
                var junk = (0..<Int.random(in: 1...4096, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }
                junk[0] = round.isMultiple(of: 2) ? 0 : junk[0]
                try? await vandal.send(junk)

                let text = "job \(round)"
                try await client.send(
                    .submitJob(
                        GearmanSubmitJob(function: ByteBuffer(string: "reverse"), workload: ByteBuffer(string: text))))
                guard case .jobCreated(let handle) = try await client.receive().first else {
                    throw TestFailure("no JOB_CREATED")
                }
                try await worker.send(.grabJob(.unique))
                guard case .jobAssignUnique(let assigned, _, _, let workload) = try await worker.receive().first else {
                    throw TestFailure("no JOB_ASSIGN_UNIQ")
                }
                #expect(assigned == handle)
                try await worker.send(
                    .workComplete(
                        handle: assigned, data: ByteBuffer(string: String(String(buffer: workload).reversed()))))
                #expect(
                    try await client.receive() == [
                        .workComplete(handle: handle, data: ByteBuffer(string: String(text.reversed())))
                    ])
            }
        }
    }

    @Test func aWorkerThatVanishesMidJobHandsTheJobToAnother() async throws {
        try await withGearboxServer { server in
            let client = try await RawConnection(port: server.port)
            try await client.send(
                .submitJob(GearmanSubmitJob(function: ByteBuffer(string: "f"), workload: ByteBuffer(string: "w"))))
            guard case .jobCreated(let handle) = try await client.receive().first else {
                throw TestFailure("no JOB_CREATED")
            }
            do {
                let doomed = try await RawConnection(port: server.port)
                try await doomed.send(.canDo(function: ByteBuffer(string: "f")))
                try await doomed.send(.grabJob(.plain))
                _ = try await doomed.receive()
            }
            let survivor = try await RawConnection(port: server.port)
            try await survivor.send(.canDo(function: ByteBuffer(string: "f")))
            try await survivor.send(.preSleep)
            #expect(try await survivor.receive() == [.noop])
            try await survivor.send(.grabJob(.plain))
            guard case .jobAssign(let again, _, _) = try await survivor.receive().first else {
                throw TestFailure("no JOB_ASSIGN")
            }
            #expect(again == handle)
        }
    }
}
