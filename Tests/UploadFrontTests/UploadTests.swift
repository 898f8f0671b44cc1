import Foundation
import Imaging
import PhotoMetadata
import TestSupport
import Testing
import UploadFront

/// Uploads of real photographs over real HTTP to a front running the embedded farm.
@Suite(.serialized) struct UploadTests {
    static let expected: [String: (width: Int, height: Int)] = [
        // Garden.jpg is 2560x1600: each box fits the photo's 16:10.
        "small": (100, 63), "medium": (640, 400), "large": (1600, 1000),
    ]

    private func checkSizes(_ photo: PhotoResult, front: RunningFront) async throws {
        #expect(photo.error == nil)
        for (name, box) in Self.expected {
            let size = try #require(photo.sizes[name], "size \(name) missing")
            #expect(size.error == nil)
            #expect(
                size.width == box.width && size.height == box.height, "\(name): \(size.width ?? 0)x\(size.height ?? 0)")
            let url = try #require(size.url)
            let reply = try await HTTP.get(front.base + url)
            #expect(reply.status == 200)
            #expect(reply.headers["content-type"] == "image/jpeg")
            #expect(reply.body.count == size.bytes)
            let info = try await FrontHarness.info(reply.body)
            #expect(
                info.width == box.width && info.height == box.height, "decoded \(name): \(info.width)x\(info.height)")
            #expect((size.ms ?? 0) > 0)
        }
    }

    @Test func multipartUploadMakesEverySizeAndKeepsTheOriginal() async throws {
        try await FrontHarness.with { front in
            try await FrontHarness.waitUntilReady(front.base)
            let reply = try await HTTP.postFiles(front.base + "/photos", [try FrontHarness.garden])
            #expect(reply.status == 200, "\(reply.text)")
            let result = try reply.json()
            let photo = try #require(result.photos.first)
            #expect(photo.filename == "Garden.jpg")
            try await checkSizes(photo, front: front)

            let original = try #require(photo.original)
            #expect(original.width == 2560 && original.height == 1600)
            let stored = try await HTTP.get(front.base + "/photos/\(photo.id!)/original")
            // Garden.jpg carries an empty EXIF block, which goes; the rest is the file as uploaded.
            let garden = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try FrontHarness.garden)))
            #expect([UInt8](stored.body) == (try MetadataScrubber.scrub(garden).bytes))
            let files = try FileManager.default.contentsOfDirectory(
                atPath: front.storage.appendingPathComponent(photo.id!).path)
            #expect(Set(files) == ["original.jpg", "small.jpg", "medium.jpg", "large.jpg"])
        }
    }

    @Test func rawBodyUploadWorksToo() async throws {
        try await FrontHarness.with { front in
            try await FrontHarness.waitUntilReady(front.base)
            let reply = try await HTTP.postRaw(front.base + "/photos?filename=garden.jpg", try FrontHarness.garden)
            #expect(reply.status == 200, "\(reply.text)")
            let photo = try #require(try reply.json().photos.first)
            #expect(photo.filename == "garden.jpg")
            try await checkSizes(photo, front: front)
        }
    }

    /// `/metrics`: the embedded farm's server and image jobs, in Prometheus' text format.
    @Test func metricsCountTheSizesMade() async throws {
        try await FrontHarness.with { front in
            try await FrontHarness.waitUntilReady(front.base)
            let reply = try await HTTP.postRaw(front.base + "/photos?filename=garden.jpg", try FrontHarness.garden)
            #expect(reply.status == 200, "\(reply.text)")
            let metrics = try await HTTP.get(front.base + "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
            let lines = metrics.text.split(separator: "\n")
            // Three sizes of one JPEG; the server counted the same three jobs.
            #expect(
                lines.contains(#"gearbox_image_jobs_total{operation="thumbnail",format="jpeg",outcome="done"} 3"#),
                "\(metrics.text)")
            #expect(lines.contains(#"gearbox_jobs_completed_total{function="thumbnail"} 3"#))
            #expect(lines.contains(#"gearbox_front_jobs{state="running"} 0.0"#))
        }
    }

    @Test func severalFilesInOneFormAreEachProcessed() async throws {
        try await FrontHarness.with { front in
            try await FrontHarness.waitUntilReady(front.base)
            let names = ["Aqua", "Dune", "Storm"]
            let paths = try names.map { try FrontHarness.fixturePath("cache/photos/nature/\($0).jpg") }
            let reply = try await HTTP.postFiles(front.base + "/photos", paths)
            #expect(reply.status == 200, "\(reply.text)")
            let result = try reply.json()
            #expect(result.photos.map(\.filename) == names.map { "\($0).jpg" })
            #expect(Set(result.photos.compactMap(\.id)).count == 3)
            for photo in result.photos {
                let small = try #require(photo.sizes["small"])
                let reply = try await HTTP.get(front.base + small.url!)
                let info = try await FrontHarness.info(reply.body)
                #expect(max(info.width, info.height) == 100)
                #expect(photo.sizes.values.allSatisfy { $0.error == nil })
            }
        }
    }

    @Test func storedImagesCarryETagAndCacheHeadersAndAnswer304() async throws {
        try await FrontHarness.with { front in
            try await FrontHarness.waitUntilReady(front.base)
            let photo = try #require(
                try await HTTP.postFiles(front.base + "/photos", [try FrontHarness.garden]).json().photos.first)
            let url = front.base + photo.sizes["medium"]!.url!
            let first = try await HTTP.get(url)
            let etag = try #require(first.headers["etag"])
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""))
            #expect(first.headers["cache-control"]?.contains("max-age=31536000") == true)
            #expect(first.headers["last-modified"] != nil)
            let again = try await HTTP.get(url, headers: ["If-None-Match": etag])
            #expect(again.status == 304)
            #expect(again.body.isEmpty)
            let other = try await HTTP.get(url, headers: ["If-None-Match": "\"nope\""])
            #expect(other.status == 200)
        }
    }

    @Test func theUploadPageAndHealthCheck() async throws {
        try await FrontHarness.with { front in
            try await FrontHarness.waitUntilReady(front.base)
            let page = try await HTTP.get(front.base + "/")
            #expect(page.status == 200)
            #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(page.text.contains("<input id=\"files\" type=\"file\""))
            #expect(page.text.contains("small (100)"))
            let health = try await HTTP.get(front.base + "/healthz")
            #expect(health.status == 200)
            #expect(health.text.contains("\"status\":\"ready\""))
        }
    }

    @Test func aBrowserFormGetsAPageShowingTheSizes() async throws {
        try await FrontHarness.with { front in
            try await FrontHarness.waitUntilReady(front.base)
            let reply = try await HTTP.postFiles(
                front.base + "/photos", [try FrontHarness.garden], headers: ["Accept": "text/html,*/*;q=0.8"])
            #expect(reply.status == 200)
            #expect(reply.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(reply.text.contains("<img class=\"thumb\""))
            #expect(reply.text.contains("640×400"))
        }
    }
}
