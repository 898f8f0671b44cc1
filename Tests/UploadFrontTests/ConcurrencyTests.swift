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
        let front = try await FrontProcess(["--server", "\(farm.address)", "--function", "slow-thumbnail"])
        defer { front.stop() }
        do {
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
            // The front's own account: the photo took about its slowest size, far from the sum of all three...
            let slowest = sizes.values.map { $0.ms ?? 0 }.max() ?? 0
            let photoMs = try #require(result.photos.first).ms
            #expect(photoMs < slowest + 1000, "photo \(photoMs) ms, slowest size \(slowest) ms")
            // ...and the client's: less than the sizes' job times added up, which one after another would take
            // at least. (Measured against the jobs rather than the clock: the machine may be busy.)
            let total = sizes.values.reduce(0) { $0 + ($1.ms ?? 0) }
            #expect(
                elapsed < .milliseconds(Int64(total * 0.7)),
                "three sizes took \(elapsed): \(sizes.mapValues { [$0.queuedMs ?? 0, $0.ms ?? 0] })")
        }
        await farm.shutdown()
    }

    @Test func theJobLimitQueuesSizesInsteadOfRunningThemAll() async throws {
        let farm = try await TestFarm(function: "slow-thumbnail", delay: .milliseconds(400), echo: true)
        let front = try await FrontProcess(
            ["--server", "\(farm.address)", "--function", "slow-thumbnail", "--max-jobs", "1"])
        defer { front.stop() }
        do {
            try await FrontHarness.waitUntilReady(front.base)
            let started = ContinuousClock.now
            let reply = try await HTTP.postFiles(front.base + "/photos", [try photo])
            let elapsed = ContinuousClock.now - started
            #expect(reply.status == 200)
            let sizes = try #require(try reply.json().photos.first?.sizes)
            #expect(elapsed >= .milliseconds(1200), "one job at a time, yet three took \(elapsed)")
            #expect(
                sizes.values.contains { ($0.queuedMs ?? 0) >= 700 }, "the last size should have waited for two others")
        }
        await farm.shutdown()
    }

    @Test func manyUploadsAtOnceDoNotBlockEachOther() async throws {
        let farm = try await TestFarm(function: "slow-thumbnail", delay: Self.delay, concurrency: 16, echo: true)
        let front = try await FrontProcess(["--server", "\(farm.address)", "--function", "slow-thumbnail"])
        defer { front.stop() }
        do {
            try await FrontHarness.waitUntilReady(front.base)
            let path = try photo
            let started = ContinuousClock.now
            let replies = try await withThrowingTaskGroup(of: HTTPReply.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await HTTP.postFiles(front.base + "/photos", [path]) }
                }
                return try await group.reduce(into: [HTTPReply]()) { $0.append($1) }
            }
            let elapsed = ContinuousClock.now - started
            #expect(replies.map(\.status) == [200, 200, 200, 200])
            let photoTimes = try replies.map { try $0.json().ms }
            // Uploads waiting for each other would take their times added up; at once, about the slowest one.
            #expect(
                elapsed < .milliseconds(Int64(photoTimes.reduce(0, +) * 0.5)),
                "4 uploads x 3 two-second sizes took \(elapsed); each: \(photoTimes) ms")
            #expect(photoTimes.allSatisfy { $0 >= 2000 })
        }
        await farm.shutdown()
    }
}
