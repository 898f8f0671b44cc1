import Imaging
import Testing

/// libvips is set up once per process: later processors and later starts change nothing.
@Suite struct VipsRuntimeTests {
    @Test func libvipsThreadsPerImageAreSetOncePerProcess() async throws {
        _ = Shared.processor
        let before = VipsRuntime.concurrency
        let another = try ImageProcessor(configuration: .init(threads: 1))
        try VipsRuntime.start(concurrency: before + 3)
        #expect(VipsRuntime.concurrency == before)
        await another.shutdown()
    }
}
