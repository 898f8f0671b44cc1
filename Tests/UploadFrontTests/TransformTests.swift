import Foundation
import Imaging
import TestSupport
import Testing
import UploadFront

/// `GET /photos/ID/image?OPTIONS`, any size from a URL, over real HTTP: signed URLs of sizes never configured,
/// one job per result however the options are ordered or how many ask at once, refusals, the disk budget,
/// the format chosen from Accept, and `gearbox front sign`. Jobs are counted at the test farm's worker and by
/// the front's own metrics.
@Suite struct TransformTests {
    static let key = "transform-test-key-0123456789abcdef-0123"
    static var photo: String { get throws { try FrontHarness.fixturePath("generated/photo.jpg") } }

    /// A storage folder holding one photo's original, as an upload leaves it; returns the folder and the id.
    static func seededStorage() throws -> (storage: URL, id: String) {
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent("front-\(PhotoStore.newID())")
        let id = PhotoStore.newID()
        let folder = storage.appendingPathComponent(id, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: URL(fileURLWithPath: try photo), to: folder.appendingPathComponent("original.jpg"))
        return (storage, id)
    }

    /// A file holding `key`, for `--signing-key-file`.
    static func keyFile() throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("key-\(PhotoStore.newID())")
        try Data((key + "\n").utf8).write(to: file)
        return file
    }

    /// `/photos/ID/image?QUERY&e=…&s=…`: `query` as given, signed in its normalized form, as a site's own
    /// application would sign it.
    static func signed(_ signer: URLSigner, id: String, _ query: String, now: Date = Date()) throws -> String {
        let path = "/photos/\(id)/image"
        let signedURL = signer.sign(path, options: try TransformRequest(query: query).normalizedQuery, now: now)
        let signature = QueryItems(parsing: String(signedURL.split(separator: "?", maxSplits: 1)[1])).items
            .filter { TransformRequest.signatureNames.contains($0.name) }
        return "\(path)?" + ([query] + signature.map { "\($0.name)=\($0.value)" }).joined(separator: "&")
    }

    /// The files the transform cache holds.
    static func cachedFiles(_ storage: URL) -> [String] {
        let folder = storage.appendingPathComponent(".transforms")
        return ((try? FileManager.default.subpathsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.contains(".") && !$0.hasSuffix(".tmp") }
    }

    /// A value of the front's `/metrics`.
    static func metric(_ base: String, _ name: String) async throws -> Double? {
        let text = try await HTTP.get(base + "/metrics").text
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{") }
        return line?.split(separator: " ").last.flatMap { Double($0) }
    }

    static func unsafe(_ configuration: FrontConfiguration = FrontHarness.jpegOnly) -> FrontConfiguration {
        var configuration = configuration
        configuration.unsafeTransforms = true
        return configuration
    }

    @Test func aSignedSizeNeverConfiguredIsMadeOnceAndServedFromDiskWhateverTheOptionsOrder() async throws {
        let (storage, id) = try Self.seededStorage()
        let keyFile = try Self.keyFile()
        defer {
            try? FileManager.default.removeItem(at: storage)
            try? FileManager.default.removeItem(at: keyFile)
        }
        let farm = try await TestFarm(function: "counted-thumbnail", delay: .zero)
        let front = try await FrontProcess(
            ["--server", "\(farm.address)", "--function", "counted-thumbnail", "--signing-key-file", keyFile.path],
            storage: storage)
        defer { front.stop() }
        do {
            try await FrontHarness.waitUntilReady(front.base)
            let signer = try URLSigner(keys: [Self.key])
            let first = try await HTTP.get(
                front.base + Self.signed(signer, id: id, "size=300x200&crop=centre&quality=80"))
            #expect(first.status == 200, "\(first.text)")
            #expect(first.headers["content-type"] == "image/jpeg")
            #expect(first.headers["vary"] == "Accept")
            #expect(first.headers["cache-control"] == "public, max-age=31536000, immutable")
            let info = try await FrontHarness.info(first.body)
            #expect(info.format == .jpeg && info.width == 300 && info.height == 200, "\(info)")
            #expect(farm.jobs == 1)

            // Another order, `center` for `centre`: the same options, signature, result and file; no new job.
            let second = try await HTTP.get(
                front.base + Self.signed(signer, id: id, "quality=80&crop=center&size=300x200"))
            #expect(second.status == 200, "\(second.text)")
            #expect(second.headers["etag"] != nil && second.headers["etag"] == first.headers["etag"])
            #expect(second.body == first.body)
            #expect(farm.jobs == 1)
            #expect(Self.cachedFiles(storage).count == 1, "\(Self.cachedFiles(storage))")
            #expect(try await Self.metric(front.base, "gearbox_front_transform_jobs_submitted") == 1)

            let again = try await HTTP.get(
                front.base + Self.signed(signer, id: id, "size=300x200&crop=centre&quality=80"),
                headers: ["If-None-Match": first.headers["etag"] ?? ""])
            #expect(again.status == 304)

            let missing = try await HTTP.get(front.base + Self.signed(signer, id: PhotoStore.newID(), "size=300x200"))
            #expect(missing.status == 404, "\(missing.text)")
        }
        await farm.shutdown()
    }

    @Test func oneHundredRequestsForOneNewURLAtOnceRunOneJob() async throws {
        let (storage, id) = try Self.seededStorage()
        defer { try? FileManager.default.removeItem(at: storage) }
        let gate = Gate()
        let farm = try await TestFarm(function: "held-thumbnail", delay: .zero, gate: gate)
        let front = try await FrontProcess(
            ["--server", "\(farm.address)", "--function", "held-thumbnail", "--unsafe-transforms"], storage: storage)
        defer { front.stop() }
        do {
            try await FrontHarness.waitUntilReady(front.base)
            let url = front.base + "/photos/\(id)/image?size=222x111&crop=centre"
            // One curl, 100 transfers at once.
            let burst = Task {
                try await ChildProcess.run(
                    "curl",
                    ["-sS", "-Z", "--parallel-max", "100", "--parallel-immediate", "-w", "%{http_code}\n"]
                        + (0..<100).flatMap { _ in [url, "-o", "/dev/null"] },
                    timeout: .seconds(120))
            }
            // Every request is in the front, waiting for the job that the gate holds at the worker.
            let deadline = ContinuousClock.now + .seconds(60)
            while try await Self.metric(front.base, "gearbox_front_transform_requests_waiting") != 100 {
                guard ContinuousClock.now < deadline else {
                    throw FrontTestFailure(
                        description:
                            "the 100 requests never all waited: \(try await Self.metric(front.base, "gearbox_front_transform_requests_waiting") ?? -1)"
                    )
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await Self.metric(front.base, "gearbox_front_transform_jobs_submitted") == 1)
            #expect(gate.arrivals <= 1)
            gate.open()
            let result = try await burst.value
            let statuses = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n")
            #expect(statuses.count == 100 && statuses.allSatisfy { $0 == "200" }, "\(statuses)")
            #expect(farm.jobs == 1)
            #expect(try await Self.metric(front.base, "gearbox_front_transform_jobs_submitted") == 1)
        }
        await farm.shutdown()
    }

    @Test func unsignedTamperedAndExpiredURLsAreRefused() async throws {
        let (storage, id) = try Self.seededStorage()
        defer { try? FileManager.default.removeItem(at: storage) }
        var configuration = FrontHarness.jpegOnly
        configuration.signer = try URLSigner(keys: [Self.key], lifetime: .seconds(600))
        try await FrontHarness.with(configuration, storage: storage) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let signer = try URLSigner(keys: [Self.key], lifetime: .seconds(600))
            let unsigned = try await HTTP.get(front.base + "/photos/\(id)/image?size=200x100")
            #expect(unsigned.status == 403)
            #expect(try unsigned.error().reason == URLSigner.Refusal.missing.description)

            let good = try Self.signed(signer, id: id, "size=200x100")
            let tampered = good.replacingOccurrences(of: "size=200x100", with: "size=2000x1000")
            let wrong = try await HTTP.get(front.base + tampered)
            #expect(wrong.status == 403)
            #expect(try wrong.error().reason == URLSigner.Refusal.wrong.description)

            let old = try Self.signed(signer, id: id, "size=200x100", now: Date().addingTimeInterval(-3600))
            let expired = try await HTTP.get(front.base + old)
            #expect(expired.status == 403)
            #expect(try expired.error().reason == URLSigner.Refusal.expired.description)

            // A signature for one of the photo's sizes is not one for the image route.
            let sizeSignature = signer.sign("/photos/\(id)/small").split(separator: "?")[1]
            let borrowed = try await HTTP.get(front.base + "/photos/\(id)/image?size=128&\(sizeSignature)")
            #expect(borrowed.status == 403)

            let reply = try await HTTP.get(front.base + good)
            #expect(reply.status == 200, "\(reply.text)")
            let maxAge = reply.headers["cache-control"].flatMap { $0.split(separator: "=").last }.flatMap { Int($0) }
            #expect(reply.headers["cache-control"]?.hasPrefix("private, max-age=") == true)
            #expect(maxAge.map { (590...600).contains($0) } == true, "\(reply.headers)")
        }
    }

    @Test func withoutAKeyArbitrarySizesAreRefusedUnlessUnsafeTransformsIsOn() async throws {
        let (storage, id) = try Self.seededStorage()
        defer { try? FileManager.default.removeItem(at: storage) }
        try await FrontHarness.with(FrontHarness.jpegOnly, storage: storage) { front in
            let reply = try await HTTP.get(front.base + "/photos/\(id)/image?size=200x100")
            #expect(reply.status == 403)
            #expect(
                try reply.error().reason
                    == "arbitrary sizes need a signed URL: start the front with --signing-key-file, or --unsafe-transforms"
            )
        }
        try await FrontHarness.with(Self.unsafe(), storage: storage) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let reply = try await HTTP.get(front.base + "/photos/\(id)/image?size=200x100&crop=centre&format=png")
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.headers["content-type"] == "image/png" && reply.headers["vary"] == nil)
            let info = try await FrontHarness.info(reply.body)
            #expect(info.format == .png && info.width == 200 && info.height == 100)

            for (query, reason) in [
                ("size=9000x100", "the width 9000 is more than this front makes (8192)"),
                ("size=8000x8000", "8000x8000 is more than the 50 MP this front makes"),
                ("size=200&blur=3", "blur"),
                ("size=200&quality=101", "quality"),
            ] {
                let refused = try await HTTP.get(front.base + "/photos/\(id)/image?\(query)")
                #expect(refused.status == 400, "\(query): \(refused.text)")
                #expect((try? refused.error().reason)?.contains(reason) == true, "\(query): \(refused.text)")
            }
            let missing = try await HTTP.get(front.base + "/photos/\(PhotoStore.newID())/image?size=200")
            #expect(missing.status == 404)
        }
    }

    @Test func theDiskBudgetEvictsTheLeastRecentlyUsedResultAndSurvivesARestart() async throws {
        let (storage, id) = try Self.seededStorage()
        defer { try? FileManager.default.removeItem(at: storage) }
        // The echo worker hands the original back: every result has its size, and the budget holds two.
        let resultBytes = try Data(contentsOf: URL(fileURLWithPath: try Self.photo)).count
        let arguments = [
            "--function", "echo-thumbnail", "--unsafe-transforms", "--cache-size", String(resultBytes * 5 / 2),
        ]
        let farm = try await TestFarm(function: "echo-thumbnail", delay: .zero, echo: true)
        let url = { (size: Int) in "/photos/\(id)/image?size=\(size)&format=jpeg" }
        do {
            let front = try await FrontProcess(["--server", "\(farm.address)"] + arguments, storage: storage)
            defer { front.stop() }
            try await FrontHarness.waitUntilReady(front.base)
            for size in [100, 110, 120] {
                let reply = try await HTTP.get(front.base + url(size))
                #expect(reply.status == 200, "\(size): \(reply.text)")
            }
            #expect(farm.jobs == 3)
            let files = Self.cachedFiles(storage)
            #expect(files.count == 2, "\(files)")
            let firstKey = TransformRequest.key(
                function: "echo-thumbnail", photo: id,
                options: try TransformRequest(query: "size=100&format=jpeg").resolved(format: .jpeg))
            #expect(!files.contains { $0.hasSuffix("\(firstKey).jpg") }, "\(files)")
            #expect(files.allSatisfy { $0.split(separator: "/").first?.count == 2 }, "\(files)")

            // 110 is used, so 120 is now the least recent: asking for 100 again makes it again and evicts 120.
            #expect(try await HTTP.get(front.base + url(110)).status == 200)
            #expect(farm.jobs == 3)
            #expect(try await HTTP.get(front.base + url(100)).status == 200)
            #expect(farm.jobs == 4)
            #expect(try await HTTP.get(front.base + url(110)).status == 200)
            #expect(farm.jobs == 4)
            let bytes = try await Self.metric(front.base, "gearbox_front_transform_cache_bytes") ?? 0
            #expect(bytes == Double(2 * resultBytes))
        }
        // A new front finds the results on disk.
        let front = try await FrontProcess(["--server", "\(farm.address)"] + arguments, storage: storage)
        defer { front.stop() }
        try await FrontHarness.waitUntilReady(front.base)
        for size in [100, 110] {
            #expect(try await HTTP.get(front.base + url(size)).status == 200)
        }
        #expect(farm.jobs == 4)
        await farm.shutdown()
    }

    @Test func withoutAFormatAcceptChoosesWebPAndTheAnswerVariesByAccept() async throws {
        let (storage, id) = try Self.seededStorage()
        defer { try? FileManager.default.removeItem(at: storage) }
        var configuration = Self.unsafe()
        configuration.formats = [.webp]
        try await FrontHarness.with(configuration, storage: storage) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let url = front.base + "/photos/\(id)/image?size=160x120"
            let webp = try await HTTP.get(url, headers: ["Accept": "image/webp,image/*,*/*;q=0.8"])
            #expect(webp.status == 200, "\(webp.text)")
            #expect(webp.headers["content-type"] == "image/webp" && webp.headers["vary"] == "Accept")
            #expect(try await FrontHarness.info(webp.body).format == .webp)

            let jpeg = try await HTTP.get(url, headers: ["Accept": "image/avif,image/*"])
            #expect(jpeg.headers["content-type"] == "image/jpeg" && jpeg.headers["vary"] == "Accept")
            #expect(try await FrontHarness.info(jpeg.body).format == .jpeg)
            #expect(jpeg.headers["etag"] != webp.headers["etag"])
        }
    }

    @Test func gearboxFrontSignPrintsAURLTheFrontAccepts() async throws {
        let (storage, id) = try Self.seededStorage()
        let keyFile = try Self.keyFile()
        defer {
            try? FileManager.default.removeItem(at: storage)
            try? FileManager.default.removeItem(at: keyFile)
        }
        let signing = ["--signing-key-file", keyFile.path, "--url-lifetime", "600"]
        let front = try await FrontProcess(signing + ["--workers", "2"], storage: storage)
        defer { front.stop() }
        try await FrontHarness.waitUntilReady(front.base)

        let sign = try await ChildProcess.run(
            try gearboxBinary(),
            ["front", "sign"] + signing + ["\(front.base)/photos/\(id)/image?crop=centre&size=150x100"],
            timeout: .seconds(30))
        let printed = String(decoding: sign.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(sign.status == 0, "\(sign.stderr)")
        #expect(printed.hasPrefix("/photos/\(id)/image?crop=centre&size=150x100&strip=true&e="), "\(printed)")
        let reply = try await HTTP.get(front.base + printed)
        #expect(reply.status == 200, "\(reply.text)")
        let info = try await FrontHarness.info(reply.body)
        #expect(info.width == 150 && info.height == 100)
        #expect(reply.headers["cache-control"]?.hasPrefix("private, max-age=") == true)

        // A size's URL is signed as the upload's answer signs it.
        let size = try await ChildProcess.run(
            try gearboxBinary(), ["front", "sign"] + signing + ["/photos/\(id)/small"], timeout: .seconds(30))
        #expect(String(decoding: size.stdout, as: UTF8.self).hasPrefix("/photos/\(id)/small?e="))

        let refused = try await ChildProcess.run(
            try gearboxBinary(), ["front", "sign", "/photos/\(id)/image?size=100"], timeout: .seconds(30))
        #expect(refused.status != 0)
        let unknown = try await ChildProcess.run(
            try gearboxBinary(), ["front", "sign"] + signing + ["/photos/\(id)/image?blur=3"], timeout: .seconds(30))
        #expect(unknown.status != 0 && unknown.stderr.contains("blur"), "\(unknown.stderr)")
    }
}
