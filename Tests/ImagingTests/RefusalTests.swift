import TestSupport
import Testing

@testable import Imaging

/// Every broken or hostile input gives its reason, through every operation.
@Suite struct RefusalTests {
    let processor = Shared.processor

    func reasons(_ input: [UInt8], processor: ImageProcessor? = nil) async -> [String?] {
        let processor = processor ?? self.processor
        return [
            await errorText { _ = try await processor.thumbnail(input, options: ThumbnailOptions(query: "size=100")) },
            await errorText { _ = try await processor.resize(input, options: ResizeOptions(query: "width=100")) },
        ]
    }

    @Test(arguments: [
        ("truncated.jpg", "truncated JPEG"),
        ("random.bin", "not an image"),
        ("empty.jpg", "not an image: empty input"),
        ("bomb.png", "too large: 100000x100000 exceeds 50 MP"),
    ])
    func refuses(name: String, reason: String) async throws {
        let input = try Fixtures.generated(name)
        let reasons = await reasons(input)
        #expect(reasons == [reason, reason])
    }

    @Test func infoRefusesBeforeDecoding() async throws {
        #expect(
            await errorText { _ = try await processor.info(try Fixtures.generated("bomb.png")) }
                == "too large: 100000x100000 exceeds 50 MP")
        #expect(
            await errorText { _ = try await processor.info(try Fixtures.generated("random.bin")) } == "not an image")
    }

    @Test func typedErrors() async throws {
        do {
            _ = try await processor.thumbnail(try Fixtures.generated("truncated.jpg"))
            Issue.record("expected an error")
        } catch let error as ImagingError {
            #expect(error == .truncated(.jpeg))
        }
    }

    @Test func refusesTooManyBytes() async throws {
        let small = ImageProcessor(configuration: .init(threads: 1, limits: ImageLimits(maxInputBytes: 10_000)))
        let input = try Fixtures.generated("photo.jpg")
        let reasons = await reasons(input, processor: small)
        #expect(reasons == Array(repeating: "too large: \(input.count) bytes exceeds 10000 bytes", count: 2))
        await small.shutdown()
    }

    @Test func countsEveryFrameOfAnAnimation() async throws {
        let limited = ImageProcessor(configuration: .init(threads: 1, limits: ImageLimits(maxMegapixels: 0.15)))
        let input = try Fixtures.generated("animated.gif")
        let still = try await limited.thumbnail(input, options: ThumbnailOptions(query: "size=100"))
        #expect(still.pages == 1)
        #expect(
            await errorText {
                _ = try await limited.thumbnail(input, options: ThumbnailOptions(query: "size=100&animated=true"))
            } == "too large: 320x200x3 pages exceeds 0.15 MP")
        await limited.shutdown()
    }

    @Test func refusesOversizedOutput() async throws {
        let limited = ImageProcessor(configuration: .init(threads: 1, limits: ImageLimits(maxMegapixels: 1)))
        let input = try Fixtures.generated("photo.jpg")
        #expect(
            await errorText {
                _ = try await limited.thumbnail(input, options: ThumbnailOptions(query: "size=2000"))
            } == "too large: 2000x1250 exceeds 1 MP")
        #expect(
            await errorText {
                _ = try await limited.resize(input, options: ResizeOptions(query: "scale=4"))
            } == "too large: 2560x1600 exceeds 1 MP")
        await limited.shutdown()
    }

    @Test func refusesFormatsOutsideTheList() async throws {
        let svg = Array(#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>"#.utf8)
        #expect(await errorText { _ = try await processor.info(svg) } == "unsupported image format: svg")
    }

    @Test func refusesWorkAfterShutdown() async throws {
        let processor = ImageProcessor(configuration: .init(threads: 1))
        await processor.shutdown()
        let input = try Fixtures.generated("photo.jpg")
        let reason = await errorText { _ = try await processor.info(input) }
        #expect(reason == "image processor is shut down")
    }
}

@Suite struct TruncationTests {
    @Test(arguments: [
        ("photo.jpg", "JPEG"), ("alpha.png", "PNG"), ("photo.webp", "WebP"), ("rgb16.png", "PNG"),
    ])
    func refusesAnyFormatCutShort(name: String, format: String) async throws {
        let whole = try Fixtures.generated(name)
        let cut = Array(whole.prefix(whole.count * 6 / 10))
        let reason = await errorText {
            _ = try await Shared.processor.thumbnail(cut, options: ThumbnailOptions(query: "size=100"))
        }
        #expect(reason == "truncated \(format)")
    }

    @Test(arguments: ["photo.jpg", "alpha.png", "photo.webp", "animated.gif", "orientation-6.jpg"])
    func recognisesCompleteFiles(name: String) throws {
        let bytes = try Fixtures.generated(name)
        let format = try #require(ImageFormat(name: String(name.split(separator: ".").last!)))
        #expect(bytes.withUnsafeBytes { !format.looksTruncated($0) })
        let cut = Array(bytes.prefix(bytes.count - 100))
        #expect(cut.withUnsafeBytes { format.looksTruncated($0) })
    }
}
