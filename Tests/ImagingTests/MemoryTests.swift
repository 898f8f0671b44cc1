import Foundation
import Testing

@testable import Imaging

@Suite(.serialized) struct MemoryTests {
    /// Resident memory of this process, from /proc/self/statm.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test func staysBoundedWhileThumbnailingTheLargePhotoRepeatedly() async throws {
        let input = try Fixtures.elephants()
        let options = try ThumbnailOptions(query: "size=200x150")
        var samples: [Int] = []
        for _ in 0..<10 {
            let result = try await Shared.processor.thumbnail(input, options: options)
            #expect((result.width, result.height) == (200, 112))
            if let resident = Self.residentBytes() { samples.append(resident) }
        }
        try #require(samples.count == 10, "no /proc/self/statm")
        // The first runs warm up allocator arenas (and other suites run beside this one); after
        // that memory must stay flat. A decoded copy of this photo is 54 MB, so leaking one per
        // run would add 270 MB between the fifth and the tenth sample.
        let growth = samples[9] - samples[4]
        #expect(growth < 48 << 20, "resident memory grew by \(growth >> 20) MB: \(samples.map { $0 >> 20 }) MB")
    }
}
