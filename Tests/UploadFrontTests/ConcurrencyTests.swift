import Foundation
import TestSupport
import Testing
import UploadFront

/// Every size of an upload runs at once, and uploads do not wait for each other, shown with a test worker
/// whose jobs each take two seconds and then hand the image back unchanged (so that a busy machine's CPU does
/// not blur the timing). Three sizes one after another would take six seconds; the bounds allow twice one
/// delay, since other tests may be keeping the machine busy.
@Suite(.serialized) struct ConcurrencyTests {
    static let delay = Duration.seconds(2)

    private var photo: String { get throws { try FrontHarness.fixturePath("generated/photo.jpg") } }

    @Test func threeSizesTakeAboutOneDelayNotThree() async throws {
        let farm = try await TestFarm(function: "slow-thumbnail", delay: Self.delay, echo: true)
        let configuration = FrontConfiguration(servers: [farm.address], function: "slow-thumbnail")
        try await FrontHarness.with(configuration) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let started = ContinuousClock.now
            let reply = try await HTTP.postFiles(front.base + "/photos", [try photo])
            let elapsed = ContinuousClock.now - started
            #expect(reply.status == 200, "\(reply.text)")
            let result = try reply.json()
            let sizes = try #require(result.photos.first?.sizes)
            #expect(sizes.count == 3)
            for (name, size) in sizes {
                #expect((size.ms ?? 0) >= 2000, "\(name) took \(size.ms ?? 0) ms: the delay did not apply")
            }
            // The front's own account: the photo took about its slowest size, far from the sum of all three.
            let total = sizes.values.reduce(0) { $0 + ($1.ms ?? 0) }
            #expect(try #require(result.photos.first).ms < total * 0.6)
            #expect(elapsed < Self.delay * 2, "three two-second sizes took \(elapsed): \(sizes.mapValues { [$0.queuedMs ?? 0, $0.ms ?? 0] })")
            #expect(result.ms < 4000)
        }
        await farm.stop()
    }

    @Test func theJobLimitQueuesSizesInsteadOfRunningThemAll() async throws {
        let farm = try await TestFarm(function: "slow-thumbnail", delay: .milliseconds(400), echo: true)
        let configuration = FrontConfiguration(
            servers: [farm.address], maxConcurrentJobs: 1, function: "slow-thumbnail")
        try await FrontHarness.with(configuration) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let started = ContinuousClock.now
            let reply = try await HTTP.postFiles(front.base + "/photos", [try photo])
            let elapsed = ContinuousClock.now - started
            #expect(reply.status == 200)
            let sizes = try #require(try reply.json().photos.first?.sizes)
            #expect(elapsed >= .milliseconds(1200), "one job at a time, yet three took \(elapsed)")
            #expect(sizes.values.contains { ($0.queuedMs ?? 0) >= 700 }, "the last size should have waited for two others")
        }
        await farm.stop()
    }

    @Test func manyUploadsAtOnceDoNotBlockEachOther() async throws {
        let farm = try await TestFarm(function: "slow-thumbnail", delay: Self.delay, concurrency: 16, echo: true)
        let configuration = FrontConfiguration(servers: [farm.address], function: "slow-thumbnail")
        try await FrontHarness.with(configuration) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let path = try photo
            let started = ContinuousClock.now
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await HTTP.postFiles(front.base + "/photos", [path]).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            let elapsed = ContinuousClock.now - started
            #expect(statuses == [200, 200, 200, 200])
            #expect(elapsed < Self.delay * 2, "4 uploads x 3 two-second sizes took \(elapsed)")
        }
        await farm.stop()
    }
}
