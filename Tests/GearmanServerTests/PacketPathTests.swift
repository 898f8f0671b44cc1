import GearmanProtocol
import GearmanServer
import NIOCore
import Testing

/// The engine decodes the packets of every job's path straight into its operations
/// (`JobServerEngine.handle(_: GearmanPacket, ...)`); they must act exactly as the requests they encode.
struct PacketPathTests {
    private func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func theJobPathsPacketsActAsTheirRequests() throws {
        let viaRequests = EngineHarness()
        let viaPackets = EngineHarness()
        let client = viaRequests.connect()
        let worker = viaRequests.connect()
        #expect(viaPackets.connect() == client)
        #expect(viaPackets.connect() == worker)

        func both(_ request: GearmanRequest, from id: ConnectionID, sourceLocation: SourceLocation = #_sourceLocation) {
            viaRequests.send(request, from: id)
            viaPackets.sendAsPacket(request, from: id)
            for connection in [client, worker] {
                #expect(
                    viaRequests.take(connection) == viaPackets.take(connection), "after \(request.packetType)",
                    sourceLocation: sourceLocation)
            }
            #expect(viaRequests.closed == viaPackets.closed, sourceLocation: sourceLocation)
        }

        both(.canDo(function: buffer("resize")), from: worker)
        both(.preSleep, from: worker)
        var submissions: [GearmanSubmitJob] = []
        for priority in GearmanPriority.allCases {
            for background in [false, true] {
                submissions.append(
                    GearmanSubmitJob(
                        function: buffer("resize"), workload: buffer("photo \(priority) \(background)"),
                        priority: priority, isBackground: background))
            }
        }
        submissions.append(GearmanSubmitJob(function: buffer("resize"), unique: buffer("u-1"), workload: buffer("a")))
        submissions.append(GearmanSubmitJob(function: buffer("resize"), unique: buffer("u-1"), workload: buffer("b")))
        submissions.append(GearmanSubmitJob(function: buffer("resize"), unique: buffer("-"), workload: buffer("same")))
        submissions.append(
            GearmanSubmitJob(
                function: buffer("resize"), unique: buffer(String(repeating: "u", count: 65)), workload: buffer("x")))
        for submission in submissions {
            both(.submitJob(submission), from: client)
        }
        var handles: [ByteBuffer] = []
        for _ in 0..<submissions.count {
            viaRequests.send(.grabJob(.unique), from: worker)
            viaPackets.sendAsPacket(.grabJob(.unique), from: worker)
            let assigned = viaRequests.take(worker)
            #expect(assigned == viaPackets.take(worker))
            for case .jobAssignUnique(let handle, _, _, _) in assigned {
                handles.append(handle)
            }
        }
        #expect(handles.count == 8)  // the second u-1 joined the first; the 65-byte unique was refused
        for (index, handle) in handles.enumerated() {
            both(.workComplete(handle: handle, data: buffer("done \(index)")), from: worker)
        }
        both(.workComplete(handle: handles[0], data: buffer("again")), from: worker)  // JOB_NOT_FOUND
        both(.grabJob(.unique), from: worker)  // NO_JOB
        both(.preSleep, from: worker)
        #expect(viaRequests.engine.jobCount == 0)
        #expect(viaPackets.engine.jobCount == 0)
    }

    @Test func brokenJobPathPacketsFailAsTheirRequestsDo() {
        let broken = [
            GearmanPacket(magic: .request, type: .submitJob, body: buffer("resize\0unique-but-no-workload-separator")),
            GearmanPacket(magic: .request, type: .submitJobLowBackground, body: buffer("resize")),
            GearmanPacket(magic: .request, type: .workComplete, body: buffer("H:gearbox:1")),
            GearmanPacket(magic: .response, type: .submitJob, body: buffer("resize\0\0w")),
            GearmanPacket(magic: .response, type: .grabJobUnique, body: ByteBuffer()),
            GearmanPacket(magic: .request, type: .jobAssign, body: buffer("H:1\0f\0w")),
        ]
        for packet in broken {
            let expected = #expect(throws: GearmanProtocolError.self) { try GearmanRequest(packet: packet) }
            let harness = EngineHarness()
            let id = harness.connect()
            var actions: [ServerAction] = []
            let thrown = #expect(throws: GearmanProtocolError.self) {
                try harness.engine.handle(packet, from: id, now: harness.now, into: &actions)
            }
            #expect(thrown == expected, "\(packet.type)")
            #expect(actions.isEmpty)
        }
    }
}
