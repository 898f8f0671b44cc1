import Foundation
import Gearman
import Imaging
import TestSupport
import Testing
import UploadFront

/// Every refusal, as JSON with a reason (or a page for a browser form), over real HTTP.
@Suite(.serialized) struct ErrorTests {
    private func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("front-\(PhotoStore.newID()).jpg")
        try Data(bytes).write(to: url)
        return url.path
    }

    @Test func badImagesAre422And413WithTheImagingReasons() async throws {
        try await FrontHarness.with { front in
            try await FrontHarness.waitUntilReady(front.base)
            let url = front.base + "/photos"

            let random = try await HTTP.postRaw(url, try FrontHarness.fixturePath("generated/random.bin"))
            #expect(random.status == 422)
            #expect(try random.error().reason == ImagingError.notAnImage.description)
            #expect(random.headers["content-type"]?.hasPrefix("application/json") == true)

            let garden = try Fixtures.garden()
            let truncated = try temporaryFile(Array(garden.prefix(garden.count / 2)))
            defer { try? FileManager.default.removeItem(atPath: truncated) }
            let cut = try await HTTP.postFiles(url, [truncated])
            #expect(cut.status == 422, "\(cut.text)")
            #expect(cut.text.contains("truncated JPEG"), "\(cut.text)")

            let bomb = try await HTTP.postFiles(url, [try FrontHarness.fixturePath("generated/bomb.png")])
            #expect(bomb.status == 413)
            #expect(try bomb.error().reason.hasPrefix("too large:"))
            #expect(try bomb.error().reason.hasSuffix("exceeds 50 MP"))

            // One bad photo among good ones: the upload succeeds and says which one failed, and why.
            let mixed = try await HTTP.postFiles(
                url, [try FrontHarness.garden, try FrontHarness.fixturePath("generated/random.bin")])
            #expect(mixed.status == 200)
            let photos = try mixed.json().photos
            #expect(photos.count == 2)
            #expect(photos[0].succeeded && photos[0].id != nil)
            #expect(photos[1].status == 422 && photos[1].error == "not an image" && photos[1].id == nil)

            // Nothing was kept of the refused photos.
            let kept = try FileManager.default.contentsOfDirectory(atPath: front.storage.path)
            #expect(kept == [photos[0].id!])

            let empty = try await HTTP.postRaw(url, try FrontHarness.fixturePath("generated/empty.jpg"))
            #expect(empty.status == 400)

            // A browser form gets a readable page with the same status and reason.
            let page = try await HTTP.postFiles(
                url, [try FrontHarness.fixturePath("generated/random.bin")], headers: ["Accept": "text/html"])
            #expect(page.status == 422)
            #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
            #expect(page.text.contains("not an image"))
        }
    }

    @Test func overTheByteLimitIs413BeforeTheBodyIsRead() async throws {
        let configuration = FrontConfiguration(
            densities: [1], formats: [], limits: ImageLimits(maxInputBytes: 500_000), maxRequestBytes: 3_000_000,
            embeddedWorkers: 1)
        try await FrontHarness.with(configuration) { front in
            let url = front.base + "/photos"
            let elephants = try FrontHarness.elephants  // 16 MB

            let raw = try await HTTP.postRaw(url, elephants)
            #expect(raw.status == 413)
            #expect(try raw.error().reason.hasSuffix("exceeds 500000 bytes"))

            let form = try await HTTP.postFiles(url, [elephants])
            #expect(form.status == 413)

            // Within the request limit, one part over the photo limit: refused as it streams in.
            let dune = try FrontHarness.fixturePath("cache/photos/nature/Dune.jpg")  // 1 MB
            let part = try await HTTP.postFiles(url, [dune])
            #expect(part.status == 413)
            #expect(try part.error().reason.hasSuffix("exceeds 500000 bytes"))

            // Content-Length claims 100 MB and the body never comes: the answer must not wait for it. A front
            // that waited would wait for ever, and curl would give up at its --max-time with no answer at all.
            let early = try await HTTP.curl([
                url, "--max-time", "60", "-H", "Content-Type: image/jpeg", "-H", "Content-Length: 100000000",
                "--data-binary", "@\(try FrontHarness.garden)",
            ])
            #expect(early.status == 413)
        }
    }

    @Test func unknownSizesAndPhotosAre404() async throws {
        try await FrontHarness.with { front in
            try await FrontHarness.waitUntilReady(front.base)
            let photo = try #require(
                try await HTTP.postFiles(front.base + "/photos", [try FrontHarness.garden]).json().photos.first)
            let id = try #require(photo.id)

            let size = try await HTTP.get(front.base + "/photos/\(id)/huge")
            #expect(size.status == 404)
            #expect(try size.error().reason == "unknown size 'huge'")

            let missing = try await HTTP.get(front.base + "/photos/0123456789abcdef/small")
            #expect(missing.status == 404)
            #expect(try missing.error().reason.contains("no photo"))

            let traversal = try await HTTP.curl(["--path-as-is", front.base + "/photos/..%2F..%2Fetc/passwd"])
            #expect(traversal.status == 404)
        }
    }

    @Test func noWorkerAttachedIs503WithRetryAfter() async throws {
        let gearmand = try await Gearmand()
        defer { gearmand.stop() }
        let configuration = FrontConfiguration(
            servers: [GearmanServerAddress(host: "127.0.0.1", port: gearmand.port)], densities: [1], formats: [])
        try await FrontHarness.with(configuration) { front in
            let health = try await HTTP.get(front.base + "/healthz")
            #expect(health.status == 503)
            #expect(health.headers["retry-after"] == "5")
            #expect(health.text.contains("\"reachable\":true"))

            let upload = try await HTTP.postFiles(front.base + "/photos", [try FrontHarness.garden])
            #expect(upload.status == 503)
            #expect(upload.headers["retry-after"] == "5")
            #expect(try upload.error().reason.contains("no worker for 'thumbnail'"))
        }
        // No job server at all.
        let nowhere = FrontConfiguration(
            servers: [GearmanServerAddress(host: "127.0.0.1", port: try freePort())], densities: [1], formats: [])
        try await FrontHarness.with(nowhere) { front in
            let health = try await HTTP.get(front.base + "/healthz")
            #expect(health.status == 503)
            #expect(health.text.contains("\"reachable\":false"))
            let upload = try await HTTP.postFiles(front.base + "/photos", [try FrontHarness.garden])
            #expect(upload.status == 503)
            #expect(upload.headers["retry-after"] != nil)
        }
    }

    @Test func aFarmThatTimesOutIs503WithRetryAfter() async throws {
        // The worker holds its jobs until the front has answered: a farm that never answers, however late the
        // front's timer fires on a busy machine.
        let held = Gate()
        let farm = try await TestFarm(function: "stuck", delay: .zero, gate: held)
        let configuration = FrontConfiguration(
            servers: [farm.address], densities: [1], formats: [], function: "stuck", jobTimeout: .milliseconds(500))
        try await FrontHarness.with(configuration) { front in
            defer { held.open() }
            try await FrontHarness.waitUntilReady(front.base)
            let upload = try await HTTP.postFiles(front.base + "/photos", [try FrontHarness.garden])
            #expect(upload.status == 503)
            #expect(upload.headers["retry-after"] == "5")
            #expect(try upload.error().reason == "the image farm did not answer in time")
        }
        await farm.shutdown()
    }

    @Test func aFailedSizeDoesNotLoseTheOthers() async throws {
        let farm = try await TestFarm(function: "picky", delay: .zero, failing: "size=640x480")
        let configuration = FrontConfiguration(servers: [farm.address], densities: [1], formats: [], function: "picky")
        try await FrontHarness.with(configuration) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let upload = try await HTTP.postFiles(front.base + "/photos", [try FrontHarness.garden])
            #expect(upload.status == 200)
            let photo = try #require(try upload.json().photos.first)
            #expect(photo.sizes["medium"]?.error == "deliberate failure for size=640x480")
            #expect(photo.sizes["medium"]?.status == 422)
            #expect(photo.sizes["small"]?.width == 100)
            #expect(photo.sizes["large"]?.width == 1600)
            let large = try await HTTP.get(front.base + photo.sizes["large"]!.url!)
            #expect(large.status == 200)
        }
        await farm.shutdown()
    }
}
