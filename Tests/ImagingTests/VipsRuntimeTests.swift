import Imaging
import TestSupport
import Testing

/// libvips is set up once per process: later processors and later starts change nothing.
@Suite struct VipsRuntimeTests {
    @Test func libvipsThreadsPerImageAreSetOncePerProcess() async throws {
        try Shared.processor.startLibvips()
        let before = VipsRuntime.concurrency
        let another = ImageProcessor(configuration: .init(threads: 1))
        _ = try await another.info(try Fixtures.garden())
        try another.startLibvips()
        try VipsRuntime.start(concurrency: before + 3)
        #expect(VipsRuntime.concurrency == before)
        await another.shutdown()
    }
}
