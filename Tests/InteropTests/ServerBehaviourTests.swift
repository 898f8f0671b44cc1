import Foundation
import GearmanProtocol
import NIOCore
import TestSupport
import Testing

/// Behaviour that needs real time and real sockets.
@Suite(.serialized) struct ServerBehaviourTests {
    @Test func epochJobsWakeASleepingWorkerWhenDue() async throws {
        try await withGearboxServer { server in
            let worker = try await RawConnection(port: server.port, timeout: 10)
            try await worker.send(.canDo(function: ByteBuffer(string: "later")))
            try await worker.send(.preSleep)
            let client = try await RawConnection(port: server.port)
            let due = Int64(Date().timeIntervalSince1970) + 2
            try await client.send(
                .submitJob(
                    GearmanSubmitJob(
                        function: ByteBuffer(string: "later"), workload: ByteBuffer(string: "x"), epoch: due)))
            _ = try await client.receive()
            #expect(try await worker.receive() == [.noop])
            #expect(Int64(Date().timeIntervalSince1970) >= due)
            try await worker.send(.grabJob(.plain))
            guard case .jobAssign(_, _, let workload) = try await worker.receive().first else {
                throw TestFailure("no JOB_ASSIGN")
            }
            #expect(String(buffer: workload) == "x")
        }
    }

    @Test func canDoTimeoutRequeuesOverRealTime() async throws {
        try await withGearboxServer { server in
            let client = try await RawConnection(port: server.port)
            let slow = try await RawConnection(port: server.port)
            try await slow.send(.canDoTimeout(function: ByteBuffer(string: "f"), timeout: 200))
            try await client.send(
                .submitJob(GearmanSubmitJob(function: ByteBuffer(string: "f"), workload: ByteBuffer(string: "w"))))
            guard case .jobCreated(let handle) = try await client.receive().first else {
                throw TestFailure("no JOB_CREATED")
            }
            // Before GRAB_JOB leaves: the server cannot start the job's 200 ms before then.
            let grabbed = ContinuousClock.now
            try await slow.send(.grabJob(.plain))
            _ = try await slow.receive()
            // The job is back in its queue with one retry counted (`show jobs`: handle, retries, 0, 1) once the
            // timeout has run out; the late result is sent after that, however long a busy machine takes.
            let requeued = "\t1\t0\t1\n"
            let jobs = try await adminReply(port: server.port, "show jobs") { $0.contains(requeued) }
            try #require(jobs.contains(requeued), "not requeued within 10 s: \(jobs)")
            #expect(ContinuousClock.now - grabbed >= .milliseconds(200))
            try await slow.send(.workComplete(handle: handle, data: ByteBuffer(string: "late")))
            guard case .error(let code, _) = try await slow.receive().first else { throw TestFailure("no ERROR") }
            #expect(code == "JOB_NOT_FOUND")
            let admin = try await RawConnection(port: server.port)
            try await admin.send(line: "show jobs")
            #expect(try await admin.receiveAdminReply().contains(requeued), "the job stays queued for another worker")
        }
    }

    @Test func pipelinedClientsOnSeveralLoopsGetEveryResult() async throws {
        try await withGearboxServer(threads: 4) { server in
            var workers: [RawConnection] = []
            for _ in 0..<3 { workers.append(try await RawConnection(port: server.port)) }
            for worker in workers {
                try await worker.send(.canDo(function: ByteBuffer(string: "echo")))
            }
            let client = try await RawConnection(port: server.port)
            let count = 300
            var batch = ByteBuffer()
            for index in 0..<count {
                GearmanRequest.submitJob(
                    GearmanSubmitJob(function: ByteBuffer(string: "echo"), workload: ByteBuffer(string: "\(index)"))
                ).encode(into: &batch)
            }
            try await client.send(batch)
            #expect(try await client.receive(count).allSatisfy { if case .jobCreated = $0 { true } else { false } })
            var served = 0
            while served < count {
                for worker in workers where served < count {
                    try await worker.send(.grabJob(.plain))
                    guard case .jobAssign(let handle, _, let workload) = try await worker.receive().first else {
                        continue
                    }
                    try await worker.send(.workComplete(handle: handle, data: workload))
                    served += 1
                }
            }
            let results = try await client.receive(count).compactMap { response -> String? in
                if case .workComplete(_, let data) = response { return String(buffer: data) }
                return nil
            }
            #expect(Set(results) == Set((0..<count).map(String.init)))
        }
    }
}
