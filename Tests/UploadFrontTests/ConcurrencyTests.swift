import Foundation
import TestSupport
import Testing
import UploadFront

/// Every size of an upload runs at once, and uploads do not wait for each other, shown with a test worker
/// that holds each job at a gate opening only once every job that should run at once has arrived (and then
/// hands the image back unchanged). Sizes or uploads that waited for each other would never open it: the
/// front's job timeout would answer 503. No bound here depends on how fast the machine is.
@Suite struct ConcurrencyTests {
    private var photo: String { get throws { try FrontHarness.fixturePath("generated/photo.jpg") } }

    @Test func anUploadsThreeSizesRunAtOnce() async throws {
        let gate = Gate(opensAfter: 3)
        let farm = try await TestFarm(function: "held-thumbnail", delay: .zero, echo: true, gate: gate)
        let front = try await FrontProcess(["--server", "\(farm.address)", "--function", "held-thumbnail"])
        defer { front.stop() }
        do {
            try await FrontHarness.waitUntilReady(front.base)
            let reply = try await HTTP.postFiles(front.base + "/photos", [try photo])
            #expect(reply.status == 200, "\(reply.text); jobs that reached the worker: \(gate.arrivals)")
            #expect(try reply.json().photos.first?.sizes.count == 3)
        }
        await farm.shutdown()
    }

    @Test func theJobLimitQueuesSizesInsteadOfRunningThemAll() async throws {
        let gate = Gate()
        let farm = try await TestFarm(function: "held-thumbnail", delay: .zero, echo: true, gate: gate)
        let front = try await FrontProcess(
            ["--server", "\(farm.address)", "--function", "held-thumbnail", "--max-jobs", "1"])
        defer { front.stop() }
        do {
            try await FrontHarness.waitUntilReady(front.base)
            let upload = Task { try await HTTP.postFiles(front.base + "/photos", [try photo]) }
            // One size at the worker (held at the gate) and two waiting in the front: both stay so until the gate
            // opens, so polling for them cannot miss them. (The front counts a size as running once it is sent,
            // before the worker has it: hence both.)
            let deadline = ContinuousClock.now + .seconds(20)
            while true {
                let waiting = try await HTTP.get(front.base + "/healthz").text.contains("\"jobs_waiting\":2")
                if waiting && gate.arrivals > 0 { break }
                guard ContinuousClock.now < deadline else {
                    throw FrontTestFailure(description: "two sizes never waited; jobs at the worker: \(gate.arrivals)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(gate.arrivals == 1)
            gate.open()
            let reply = try await upload.value
            #expect(reply.status == 200, "\(reply.text)")
            #expect(gate.arrivals == 3)
        }
        await farm.shutdown()
    }

    @Test func manyUploadsAtOnceDoNotBlockEachOther() async throws {
        let gate = Gate(opensAfter: 12)
        let farm = try await TestFarm(
            function: "held-thumbnail", delay: .zero, concurrency: 16, echo: true, gate: gate)
        let front = try await FrontProcess(["--server", "\(farm.address)", "--function", "held-thumbnail"])
        defer { front.stop() }
        do {
            try await FrontHarness.waitUntilReady(front.base)
            let path = try photo
            let replies = try await withThrowingTaskGroup(of: HTTPReply.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await HTTP.postFiles(front.base + "/photos", [path]) }
                }
                return try await group.reduce(into: [HTTPReply]()) { $0.append($1) }
            }
            // 4 uploads x 3 sizes, all at the worker before any could finish.
            #expect(replies.map(\.status) == [200, 200, 200, 200], "jobs that reached the worker: \(gate.arrivals)")
        }
        await farm.shutdown()
    }
}
