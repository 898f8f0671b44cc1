import Foundation
import TestSupport
import Testing
import UploadFront

/// Every size of an upload runs at once, and uploads do not wait for each other, shown with a test worker
/// whose jobs each take one second: three sizes done one after another would take three.
@Suite(.serialized) struct ConcurrencyTests {
    static let delay = Duration.seconds(1)

    private var photo: String { get throws { try FrontHarness.fixturePath("generated/photo.jpg") } }

    @Test func threeSizesTakeAboutOneDelayNotThree() async throws {
        let farm = try await TestFarm(function: "slow-thumbnail", delay: Self.delay)
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
                #expect((size.ms ?? 0) >= 1000, "\(name) took \(size.ms ?? 0) ms: the delay did not apply")
            }
            #expect(elapsed < Self.delay * 2, "three one-second sizes took \(elapsed)")
            #expect(result.ms < 2000)
        }
        await farm.stop()
    }

    @Test func theJobLimitQueuesSizesInsteadOfRunningThemAll() async throws {
        let farm = try await TestFarm(function: "slow-thumbnail", delay: .milliseconds(400))
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
        let farm = try await TestFarm(function: "slow-thumbnail", delay: Self.delay, concurrency: 16)
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
            #expect(elapsed < Self.delay * 2, "4 uploads x 3 one-second sizes took \(elapsed)")
        }
        await farm.stop()
    }
}
