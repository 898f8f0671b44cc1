import ImageFarm
import Imaging
import NIOCore
import TestSupport
import Testing

/// The image functions on real photographs, exactly as a worker runs them for a Gearman job.
@Suite(.serialized) struct ImageFunctionRunnerTests {
    static let processor = ImageProcessor(configuration: .init(threads: 2))

    private func run(
        _ function: ImageFunction, _ options: String? = nil, image: [UInt8],
        defaults: ImageFunctionDefaults = ImageFunctionDefaults()
    ) async throws -> ImageJobResult {
        var workload = ByteBuffer()
        if let options {
            workload.writeString("?\(options)\n")
        }
        workload.writeBytes(image)
        return try await ImageFunctionRunner(processor: Self.processor, defaults: defaults).run(
            function, workload: workload)
    }

    private func describe(_ bytes: [UInt8]) async throws -> ImageInfo {
        try await Self.processor.info(bytes)
    }

    @Test func resizeWithNoOptionsGivesA200x150ThumbnailAsTheClassicExample() async throws {
        let result = try await run(.resize, image: try Fixtures.elephants())
        let info = try await describe(result.bytes)
        #expect(info.format == .jpeg)
        #expect(info.width == 200 && info.height <= 150)
    }

    @Test func aJobsTimeLimitAndTheWorkersBothStopIt() async throws {
        let photo = try Fixtures.elephants()
        // The job's own limit, shorter than the worker's.
        await #expect(throws: ImagingError.timeLimitExceeded(.milliseconds(50))) {
            _ = try await run(.resize, "width=8000&format=png&time_limit=0.05", image: photo)
        }
        // The worker's limit caps a longer one the job asks for.
        let strict = ImageFunctionDefaults(timeLimit: .milliseconds(50))
        await #expect(throws: ImagingError.timeLimitExceeded(.milliseconds(50))) {
            _ = try await run(.resize, "width=8000&format=png&time_limit=600", image: photo, defaults: strict)
        }
        for bad in ["0", "-1", "soon", "1e9", "nan"] {
            await #expect(
                throws: ImagingError.invalidOption(
                    name: "time_limit", value: bad, expected: "seconds, more than 0 and at most 86400")
            ) {
                _ = try await run(.thumbnail, "time_limit=\(bad)", image: try Fixtures.garden())
            }
        }
        // A limit the job keeps to changes nothing.
        let result = try await run(.thumbnail, "size=100&time_limit=30", image: try Fixtures.garden())
        #expect(try await describe(result.bytes).width == 100)
    }

    @Test func thumbnailHonoursTheOptionsLine() async throws {
        let result = try await run(.thumbnail, "size=320x240&format=webp&quality=80", image: try Fixtures.garden())
        let info = try await describe(result.bytes)
        #expect(info.format == .webp)
        #expect(info.width == 320 && info.height == 200)
    }

    @Test func workerDefaultsApplyWhereTheJobIsSilent() async throws {
        let defaults = ImageFunctionDefaults(size: try ImageSize(parsing: "100x100"), format: .png)
        let silent = try await describe(
            try await run(.thumbnail, image: try Fixtures.garden(), defaults: defaults).bytes)
        #expect(silent.format == .png && silent.width == 100)
        let explicit = try await describe(
            try await run(.thumbnail, "size=50x50&format=jpeg", image: try Fixtures.garden(), defaults: defaults).bytes)
        #expect(explicit.format == .jpeg && explicit.width == 50)
    }

    @Test func resizeTakesSizeWidthOrScale() async throws {
        let garden = try Fixtures.garden()
        let bySize = try await describe(try await run(.resize, "size=640x480", image: garden).bytes)
        #expect(bySize.width == 640 && bySize.height == 400)
        let byWidth = try await describe(try await run(.resize, "width=256", image: garden).bytes)
        #expect(byWidth.width == 256 && byWidth.height == 160)
        let byScale = try await describe(try await run(.resize, "scale=0.125", image: garden).bytes)
        #expect(byScale.width == 320 && byScale.height == 200)
    }

    @Test func infoDescribesThePhotoAsJSON() async throws {
        let result = try await run(.info, image: try Fixtures.garden())
        let json = String(decoding: result.bytes, as: UTF8.self)
        #expect(json.contains("\"width\":2560") || json.contains("\"width\" : 2560"), "\(json)")
        #expect(json.contains("jpeg"))
    }

    @Test func badOptionsAndBadImagesSayWhy() async throws {
        let garden = try Fixtures.garden()
        await #expect(throws: ImagingError.unknownOption("colour", known: ThumbnailOptions.optionNames)) {
            _ = try await run(.thumbnail, "colour=red", image: garden)
        }
        do {
            _ = try await run(.thumbnail, "quality=0", image: garden)
            Issue.record("quality 0 must be refused")
        } catch {
            #expect("\(error)".contains("bad quality '0'"))
        }
        do {
            _ = try await run(.thumbnail, image: Array("definitely not an image".utf8))
            Issue.record("text must be refused")
        } catch {
            #expect("\(error)" == "not an image")
        }
        do {
            _ = try await run(.info, image: try Fixtures.generated("bomb.png"))
            _ = try await run(.thumbnail, image: try Fixtures.generated("bomb.png"))
            Issue.record("a decompression bomb must be refused")
        } catch {
            #expect("\(error)".contains("exceeds 50 MP"), "\(error)")
        }
        await #expect(throws: ImagingError.invalidOptions("info takes no options")) {
            _ = try await run(.info, "size=1x1", image: garden)
        }
    }
}
