import Foundation
import TestSupport
import Testing

@testable import Imaging

@Suite(.serialized) struct MemoryTests {
    /// Resident memory of this process, from /proc/self/statm, after handing free heap pages
    /// back to the system (so that allocator caching does not read as growth).
    static func residentBytes() -> Int? {
        ProcessMemory.releaseFreePages()
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test func staysBoundedWhileThumbnailingTheLargePhotoRepeatedly() async throws {
        let input = try Fixtures.elephants()
        let options = try ThumbnailOptions(query: "size=200x150")
        var samples: [Int] = []
        for _ in 0..<12 {
            let result = try await Shared.processor.thumbnail(input, options: options)
            #expect((result.width, result.height) == (200, 112))
            if let resident = Self.residentBytes() { samples.append(resident) }
        }
        try #require(samples.count == 12, "no /proc/self/statm")

        // Shrink-on-load never holds the decoded photo (5640x3172x3 = 54 MB): on its own a run peaks at
        // 27-35 MB of libvips buffers. The high-water mark and the resident size are the whole process's,
        // so `make test` runs this suite alone in a process of its own (scripts/run-tests.sh's groups).
        // The bound is two decoded copies: decoding this photo in full on each of the two threads crosses it.
        let decoded = 5640 * 3172 * 3
        #expect(
            VipsRuntime.trackedMemoryHighWater < 2 * decoded,
            "libvips held up to \(VipsRuntime.trackedMemoryHighWater >> 20) MB")

        // The first runs warm up allocator arenas; after that resident memory must stay flat. Leaking the 16 MB input per run would add 96 MB over the last
        // six runs, leaking a decoded copy 324 MB.
        let growth = samples[11] - samples[5]
        #expect(growth < 80 << 20, "resident memory grew by \(growth >> 20) MB: \(samples.map { $0 >> 20 }) MB")
    }
}
