import Foundation
import Imaging
import TestSupport
import Testing

/// The memory of `gearbox front` with its embedded farm and its defaults (three sizes at 1x and 2x, JPEG and
/// WebP at upload, AVIF by a background job after it), read from the process itself. Runs in `make test`'s
/// MemoryTests group, away from other suites' load. `bench/front-memory.sh` measures 20 uploads.
@Suite struct FrontMemoryTests {
    static func megabytes(_ field: String, of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("\(field):") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return kilobytes / 1024
    }

    /// A 9-megapixel photograph: the size the memory goals are set for.
    static func photo() async throws -> URL {
        let processor = ImageProcessor(configuration: .init(threads: 1))
        let made = try await processor.thumbnail(
            try Fixtures.elephants(), options: ThumbnailOptions(query: "size=4000&quality=90&format=jpeg"))
        await processor.shutdown()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nine-\(UUID().uuidString).jpg")
        try Data(made.bytes).write(to: url)
        return url
    }

    @Test func uploadsOfLargePhotosStayUnder400MBAndTheMemoryComesBack() async throws {
        let photo = try await Self.photo()
        defer { try? FileManager.default.removeItem(at: photo) }
        let front = try await FrontProcess(
            ["--job-timeout", "600", "--job-time-limit", "600"], jpegOnly: false)
        defer { front.stop() }
        try await FrontHarness.waitUntilReady(front.base)
        for upload in 1...4 {
            let reply = try await HTTP.postRaw(front.base + "/photos", photo.path)
            try #require(reply.status == 200, "upload \(upload): \(reply.status) \(reply.text)")
        }
        // Wait for what the memory should come back to: the farm's background AVIF jobs end, then the
        // processors hand the free pages back after a second without an image.
        let deadline = ContinuousClock.now + .seconds(180)
        var resident = Self.megabytes("VmRSS", of: front.pid) ?? .max
        while resident > 200, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            resident = Self.megabytes("VmRSS", of: front.pid) ?? .max
        }
        let peak = try #require(Self.megabytes("VmHWM", of: front.pid), "no /proc/\(front.pid)/status")
        #expect(peak <= 400, "gearbox front peaked at \(peak) MB")
        #expect(resident <= 200, "gearbox front still holds \(resident) MB three minutes after its last upload")
    }
}
