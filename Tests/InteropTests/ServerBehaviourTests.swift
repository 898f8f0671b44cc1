import Foundation
import GearmanProtocol
import NIOCore
import TestSupport
import Testing

/// Behaviour that needs real time and real sockets.
@Suite(.serialized) struct ServerBehaviourTests {
    @Test func epochJobsWakeASleepingWorkerWhenDue() async throws {
        try await withGearboxServer { server in
            let worker = try RawConnection(port: server.port, timeout: 10)
            try worker.send(.canDo(function: ByteBuffer(string: "later")))
            try worker.send(.preSleep)
            let client = try RawConnection(port: server.port)
            let due = Int64(Date().timeIntervalSince1970) + 2
            try client.send(
                .submitJob(
                    GearmanSubmitJob(
                        function: ByteBuffer(string: "later"), workload: ByteBuffer(string: "x"), epoch: due)))
            _ = try client.receive()
            #expect(try worker.receive() == [.noop])
            #expect(Int64(Date().timeIntervalSince1970) >= due)
            try worker.send(.grabJob(.plain))
            guard case .jobAssign(_, _, let workload) = try worker.receive().first else {
                throw TestFailure("no JOB_ASSIGN")
            }
            #expect(String(buffer: workload) == "x")
        }
    }

    @Test func canDoTimeoutRequeuesOverRealTime() async throws {
        try await withGearboxServer { server in
            let client = try RawConnection(port: server.port)
            let slow = try RawConnection(port: server.port)
            try slow.send(.canDoTimeout(function: ByteBuffer(string: "f"), timeout: 200))
            try client.send(
                .submitJob(GearmanSubmitJob(function: ByteBuffer(string: "f"), workload: ByteBuffer(string: "w"))))
            guard case .jobCreated(let handle) = try client.receive().first else { throw TestFailure("no JOB_CREATED") }
            try slow.send(.grabJob(.plain))
            _ = try slow.receive()
            try await Task.sleep(for: .milliseconds(600))
            try slow.send(.workComplete(handle: handle, data: ByteBuffer(string: "late")))
            guard case .error(let code, _) = try slow.receive().first else { throw TestFailure("no ERROR") }
            #expect(code == "JOB_NOT_FOUND")
            let admin = try RawConnection(port: server.port)
            try admin.send(line: "show jobs")
            #expect(try admin.receiveAdminReply().contains("\t1\t0\t1\n"))
        }
    }

    @Test func pipelinedClientsOnSeveralLoopsGetEveryResult() async throws {
        try await withGearboxServer(threads: 4) { server in
            let workers = try (0..<3).map { _ in try RawConnection(port: server.port) }
            for worker in workers {
                try worker.send(.canDo(function: ByteBuffer(string: "echo")))
            }
            let client = try RawConnection(port: server.port)
            let count = 300
            var batch = ByteBuffer()
            for index in 0..<count {
                GearmanRequest.submitJob(
                    GearmanSubmitJob(function: ByteBuffer(string: "echo"), workload: ByteBuffer(string: "\(index)"))
                ).encode(into: &batch)
            }
            try client.send(batch)
            #expect(try client.receive(count).allSatisfy { if case .jobCreated = $0 { true } else { false } })
            var served = 0
            while served < count {
                for worker in workers where served < count {
                    try worker.send(.grabJob(.plain))
                    guard case .jobAssign(let handle, _, let workload) = try worker.receive().first else { continue }
                    try worker.send(.workComplete(handle: handle, data: workload))
                    served += 1
                }
            }
            let results = try client.receive(count).compactMap { response -> String? in
                if case .workComplete(_, let data) = response { return String(buffer: data) }
                return nil
            }
            #expect(Set(results) == Set((0..<count).map(String.init)))
        }
    }
}
