import Foundation
import Gearman
import GearmanServer
import ImageFarm
import Imaging
import NIOCore
import TestSupport
import Testing

/// The image functions and the batch runner through a real job server (an `EmbeddedFarm` on a free loopback
/// port), with real photographs.
@Suite(.serialized) struct FarmTests {
    static let describer = ImageProcessor(configuration: .init(threads: 1))

    func describe(_ path: String) async throws -> ImageInfo {
        try await Self.describer.info([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test func imageFunctionsAnswerThroughTheServer() async throws {
        let garden = try Fixtures.garden()
        try await EmbeddedFarm.with(concurrency: 2) { farm in
            let client = GearmanClient(servers: [farm.address])
            defer { Task { await client.shutdown() } }
            // The classic example: the bare image to `resize` gives a 200x150 thumbnail.
            let resized = try await Self.describer.info(try await client.submit("resize", workload: garden))
            #expect(resized.width == 200 && resized.height <= 150)
            let webp = ImageJobRequest.workload(
                options: QueryItems(parsing: "size=320x240&format=webp&quality=80"), image: ByteBuffer(bytes: garden))
            let thumbnail = try await Self.describer.info(try await client.submit("thumbnail", workload: webp))
            #expect(thumbnail.format == .webp && thumbnail.width == 320 && thumbnail.height == 200)
            let info = String(buffer: try await client.submit("info", workload: garden))
            #expect(info.contains("\"width\":2560"), "\(info)")
        }
    }

    @Test func withAStoreBackgroundJobsOutliveTheFarm() async throws {
        let scratch = try ScratchFolder()
        let store = scratch.store
        // A function no worker of this farm serves: the job stays queued across the restart.
        try await EmbeddedFarm.with(concurrency: 1, store: .sqlite(path: store)) { farm in
            let client = GearmanClient(servers: [farm.address])
            defer { Task { await client.shutdown() } }
            _ = try await client.submitBackground("sizes-later", workload: Array("photo-1".utf8), unique: "photo-1")
        }
        try await EmbeddedFarm.with(concurrency: 1, store: .sqlite(path: store)) { farm in
            let client = GearmanClient(servers: [farm.address])
            defer { Task { await client.shutdown() } }
            let kept = try await client.status(unique: "photo-1")
            let never = try await client.status(unique: "photo-2")
            #expect(kept.isKnown)
            #expect(!never.isKnown)
        }
    }

    /// Each refusal's WORK_EXCEPTION starts with its stable code, then the reason for people.
    @Test func badImagesAndBadOptionsEndTheJobWithTheirCodeAndReasonAndTheWorkerGoesOn() async throws {
        let garden = try Fixtures.garden()
        try await EmbeddedFarm.with(concurrency: 1) { farm in
            let client = GearmanClient(servers: [farm.address])
            defer { Task { await client.shutdown() } }
            let cases: [(String, [UInt8], String, String)] = [
                (
                    "thumbnail", Array("?size=100x100&colour=red\n".utf8) + garden, "UNKNOWN_OPTION",
                    "unknown option 'colour'"
                ),
                ("thumbnail", Array("?quality=0\n".utf8) + garden, "INVALID_OPTION", "bad quality '0'"),
                ("thumbnail", Array("?size=100x100".utf8), "BAD_OPTIONS_LINE", "bad options line"),
                ("resize", try Fixtures.generated("truncated.jpg"), "TRUNCATED", "truncated JPEG"),
                ("thumbnail", try Fixtures.generated("random.bin"), "NOT_AN_IMAGE", "not an image"),
                (
                    "info", try Fixtures.generated("bomb.png"), "TOO_MANY_PIXELS",
                    "too large: 100000x100000 exceeds 50 MP"
                ),
            ]
            for (function, workload, code, reason) in cases {
                do {
                    _ = try await client.submit(function, workload: workload)
                    Issue.record("\(reason): the job succeeded")
                } catch let error as GearmanError where error.code == .workException {
                    #expect(error.exceptionCode == code, "\(error.message)")
                    #expect(error.message.hasPrefix("\(code): \(reason)"), "\(error.message)")
                    #expect(GearmanExceptionText.description(of: error.message).hasPrefix(reason), "\(error.message)")
                }
            }
            // Still serving.
            let after = try await Self.describer.info(try await client.submit("thumbnail", workload: garden))
            #expect(after.width == 200)
        }
    }

    @Test func largeWorkloadsReportProgress() async throws {
        let elephants = try Fixtures.elephants()
        try await EmbeddedFarm.with(concurrency: 1) { farm in
            let client = GearmanClient(servers: [farm.address])
            defer { Task { await client.shutdown() } }
            var statuses: [UInt32] = []
            var result: ByteBuffer?
            for try await event in try await client.stream("thumbnail", workload: ByteBuffer(bytes: elephants)) {
                switch event {
                case .status(let numerator, let denominator):
                    #expect(denominator == 2)
                    statuses.append(numerator)
                case .complete(let bytes):
                    result = bytes
                default:
                    break
                }
            }
            #expect(statuses == [0, 1])
            #expect(result.map { $0.readableBytes > 0 } == true)
        }
    }

    /// Four photos in two folders plus a corrupt one, at two sizes.
    func photoTree() throws -> ScratchFolder {
        let scratch = try ScratchFolder()
        try scratch.file("in/Garden.jpg", try Fixtures.nature("Garden"))
        try scratch.file("in/trip/Aqua.jpg", try Fixtures.nature("Aqua"))
        try scratch.file("in/trip/day2/Dune.jpg", try Fixtures.nature("Dune"))
        try scratch.file("in/trip/Wood.jpg", try Fixtures.nature("Wood"))
        try scratch.file("in/trip/broken.jpg", try Fixtures.generated("truncated.jpg"))
        try scratch.file("in/notes.txt", Array("not a photo".utf8))
        return scratch
    }

    func plan(_ scratch: ScratchFolder, format: ImageFormat? = nil) throws -> BatchPlan {
        try BatchPlan.make(
            input: scratch.path + "/in", output: scratch.path + "/out",
            sizes: [try ImageSize(parsing: "200x150"), try ImageSize(parsing: "640x480")], format: format)
    }

    @Test func aBatchMirrorsTheTreeReportsTheCorruptFileAndResumes() async throws {
        let scratch = try photoTree()
        try await EmbeddedFarm.with(concurrency: 2) { farm in
            let client = GearmanClient(servers: [farm.address])
            defer { Task { await client.shutdown() } }
            let runner = BatchRunner(client: client, configuration: .init(maxPhotosInFlight: 2))
            let heard = Collected()
            let first = await runner.run(try plan(scratch)) { heard.append(BatchProgress.line(for: $0) + "\n") }
            #expect(first.photos == 5)
            #expect(first.written == 8)
            #expect(first.failures.count == 2)
            #expect(first.failures.allSatisfy { $0.file == "trip/broken.jpg" && $0.reason == "truncated JPEG" })
            #expect(first.exitStatus == 1)
            #expect(heard.text.split(separator: "\n").count == 5)
            #expect(
                scratch.files(under: "out") == [
                    "Garden_200x150.jpg", "Garden_640x480.jpg",
                    "trip/Aqua_200x150.jpg", "trip/Aqua_640x480.jpg",
                    "trip/Wood_200x150.jpg", "trip/Wood_640x480.jpg",
                    "trip/day2/Dune_200x150.jpg", "trip/day2/Dune_640x480.jpg",
                ])
            let small = try await describe(scratch.path + "/out/trip/day2/Dune_200x150.jpg")
            #expect(small.width <= 200 && small.height <= 150 && max(small.width, small.height / 150 * 200) >= 150)
            let large = try await describe(scratch.path + "/out/Garden_640x480.jpg")
            #expect(large.width == 640 && large.height == 400)

            // Everything is up to date now; a removed thumbnail is made again.
            try FileManager.default.removeItem(atPath: scratch.path + "/out/trip/Wood_640x480.jpg")
            let second = await runner.run(try plan(scratch))
            #expect(second.written == 1)
            #expect(second.upToDate == 7)
            #expect(second.failures.count == 2)
        }
    }

    @Test func anInterruptedBatchLeavesNoPartialFilesAndTheNextRunFinishesIt() async throws {
        let scratch = try ScratchFolder()
        for name in Fixtures.naturePhotos {
            try scratch.file("in/\(name).jpg", try Fixtures.nature(name))
        }
        try await EmbeddedFarm.with(concurrency: 1) { farm in
            let client = GearmanClient(servers: [farm.address])
            defer { Task { await client.shutdown() } }
            let runner = BatchRunner(client: client, configuration: .init(maxPhotosInFlight: 1))
            let plan = try plan(scratch, format: .webp)
            let started = AsyncStream<Void>.makeStream()
            let work = Task { await runner.run(plan) { _ in started.continuation.yield() } }
            for await _ in started.stream { break }  // one photo done
            work.cancel()
            let interrupted = await work.value
            #expect(interrupted.interrupted)
            #expect(interrupted.exitStatus == 130)
            #expect(interrupted.written < 24)
            #expect(interrupted.failures.isEmpty)
            #expect(scratch.files(under: "out").allSatisfy { !$0.contains(".part") && $0.hasSuffix(".webp") })

            let resumed = await runner.run(try self.plan(scratch, format: .webp))
            #expect(resumed.exitStatus == 0)
            #expect(resumed.upToDate == interrupted.written)
            #expect(resumed.written + resumed.upToDate == 24)
            #expect(scratch.files(under: "out").count == 24)
        }
    }
}

/// How the farm starts and stops as a `Service`.
@Suite struct FarmLifecycleTests {
    /// A graceful shutdown lets the job that is running finish and answer before the server closes.
    @Test func aGracefulShutdownLetsTheRunningJobFinish() async throws {
        try await withDeadline(.seconds(60)) {
            let farm = try await EmbeddedFarm.bind(concurrency: 1)
            let started = AsyncStream<Void>.makeStream()
            let slow = GearmanWorker(servers: [farm.address])
            slow.register("slow") { job in
                started.continuation.yield()
                try? await Task.sleep(for: .milliseconds(500))
                return job.workload
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await farm.run() }
                group.addTask { try await slow.run() }
                let client = GearmanClient(servers: [farm.address])
                async let answer = client.submit("slow", workload: Array("kept".utf8))
                var events = started.stream.makeAsyncIterator()
                await events.next()
                slow.shutdown()
                farm.shutdown()
                #expect(String(buffer: try await answer) == "kept")
                await client.shutdown()
                try await group.waitForAll()
            }
        }
    }
}
