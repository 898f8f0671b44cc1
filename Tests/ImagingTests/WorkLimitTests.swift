import Foundation
import TestSupport
import Testing

@testable import Imaging

/// The limits on work rather than size: a time limit that really stops libvips, progressive JPEGs above
/// their own pixel limit, and files that declare too many frames.
@Suite struct WorkLimitTests {
    let processor = Shared.processor

    /// A progressive copy of a real photograph, made by libvips itself.
    static func progressive(_ input: [UInt8]) async throws -> [UInt8] {
        try await Shared.processor.resize(
            input, options: ResizeOptions(query: "scale=1&format=jpeg&interlace=true&quality=90")
        ).bytes
    }

    @Test func aJobPastItsTimeLimitIsStoppedAndTheProcessorRunsTheNextOne() async throws {
        // A processor of its own: this job's estimate takes the whole memory budget, so on the shared one it
        // would also wait for the other suites' images, and the wait would count as its run time.
        let processor = ImageProcessor(configuration: .init(threads: 2))
        let photo = try Fixtures.elephants()
        // 8000x4499 as PNG: seconds of work, so that a stop after the limit stands out from any noise.
        let options = try ResizeOptions(query: "width=8000&kernel=lanczos3&format=png")
        let clock = ContinuousClock()
        var unlimited: ProcessedImage?
        let full = try await clock.measure {
            unlimited = try await processor.resize(photo, options: options)
        }
        #expect(unlimited?.width == 8000)

        var caught: (any Error)?
        let stopped = await clock.measure {
            do {
                _ = try await processor.resize(photo, options: options, timeLimit: .milliseconds(100))
            } catch {
                caught = error
            }
        }
        #expect(caught as? ImagingError == .timeLimitExceeded(.milliseconds(100)))
        #expect("\(caught.map { "\($0)" } ?? "")" == "time limit: stopped after 0.1 s")
        // Stopped within a strip or two of decoding, not run to the end.
        #expect(stopped < full / 3, "stopped after \(stopped), the whole job takes \(full)")

        let next = try await processor.thumbnail(
            photo, options: ThumbnailOptions(query: "size=100"), timeLimit: .seconds(30))
        #expect(next.width == 100)
        await processor.shutdown()
    }

    @Test func aThumbnailPastItsTimeLimitIsStopped() async throws {
        let photo = try Fixtures.elephants()
        await #expect(throws: ImagingError.timeLimitExceeded(.milliseconds(5))) {
            _ = try await processor.thumbnail(
                photo, options: ThumbnailOptions(query: "size=2000&format=png"), timeLimit: .milliseconds(5))
        }
    }

    @Test func progressiveJPEGsHaveTheirOwnPixelLimit() async throws {
        let garden = try Fixtures.garden()  // 2560x1600: 4.1 MP
        let progressive = try await Self.progressive(garden)
        let strict = ImageProcessor(
            configuration: .init(threads: 1, limits: ImageLimits(maxInterlacedMegapixels: 4)))
        await #expect(throws: ImagingError.tooManyInterlacedPixels(width: 2560, height: 1600, limitMegapixels: 4)) {
            _ = try await strict.thumbnail(progressive, options: ThumbnailOptions(query: "size=100"))
        }
        #expect(
            await errorText { _ = try await strict.info(progressive) }
                == "too large: progressive 2560x1600 exceeds 4 MP")
        // The baseline original is under the ordinary limit and goes through.
        #expect(try await strict.thumbnail(garden, options: ThumbnailOptions(query: "size=100")).width == 100)
        await strict.shutdown()
    }

    @Test func filesThatDeclareTooManyFramesAreRefused() async throws {
        let animation = try Fixtures.generated("animated.gif")  // 3 frames
        #expect(try await processor.info(animation).pages == 3)
        let strict = ImageProcessor(configuration: .init(threads: 1, limits: ImageLimits(maxFrames: 2)))
        #expect(await errorText { _ = try await strict.info(animation) } == "too large: 3 frames exceeds 2 frames")
        #expect(
            await errorText {
                _ = try await strict.thumbnail(animation, options: ThumbnailOptions(query: "size=10"))
            } == "too large: 3 frames exceeds 2 frames")
        await strict.shutdown()
    }

    @Test func theShorterTimeLimitWins() {
        let limits = ImageLimits(timeLimit: .seconds(10))
        #expect(limits.limitingTime(to: .seconds(2)).timeLimit == .seconds(2))
        #expect(limits.limitingTime(to: .seconds(20)).timeLimit == .seconds(10))
        #expect(limits.limitingTime(to: nil).timeLimit == .seconds(10))
        #expect(ImageLimits().limitingTime(to: .seconds(3)).timeLimit == .seconds(3))
    }
}
