import Foundation
import Gearman
import ImageFarm
import Imaging
import PhotoMetadata
import TestSupport
import Testing
import UploadFront

/// What a photo site needs from the front, over real HTTP: originals without location or camera, formats
/// negotiated from Accept, presets and @2x, signed and expiring URLs, 429 when the queue is full, a job
/// stopped at its time limit, and backfilling files after the sizes change.
@Suite struct PhotoSiteTests {
    static let key = "photo-site-test-key-0123456789abcdef"

    /// Garden.jpg as a phone would send it: GPS, camera make, model and serial, XMP, a copyright, and an
    /// orientation, written by exiftool.
    static func phonePhoto() async throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("phone-\(PhotoStore.newID()).jpg")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: try FrontHarness.garden), to: file)
        let result = try await ChildProcess.run(
            "exiftool",
            [
                "-q", "-overwrite_original", "-GPSLatitude=48.8584", "-GPSLatitudeRef=N", "-GPSLongitude=2.2945",
                "-GPSLongitudeRef=E", "-Make=TestPhone", "-Model=TP-1", "-SerialNumber=SN-4242",
                "-Copyright=Ann Example", "-XMP-dc:Title=At home", "-Orientation#=6", file.path,
            ], timeout: .seconds(30))
        guard result.status == 0 else { throw FrontTestFailure(description: "exiftool: \(result.stderr)") }
        return file
    }

    /// exiftool's reading of a file, as tag name → value.
    static func exif(_ data: Data) async throws -> [String: String] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("read-\(PhotoStore.newID())")
        try data.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await ChildProcess.run("exiftool", ["-j", "-a", "-G1", file.path], timeout: .seconds(30))
        let json = try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]]
        return (json?.first ?? [:]).mapValues { "\($0)" }
    }

    @Test func theOriginalKeepsItsPixelsAndOrientationButNotWhereOrWithWhatItWasTaken() async throws {
        let phone = try await Self.phonePhoto()
        defer { try? FileManager.default.removeItem(at: phone) }
        let before = try await Self.exif(try Data(contentsOf: phone))
        #expect(before["GPS:GPSLatitude"] != nil && before["IFD0:Make"] == "TestPhone")

        var configuration = FrontHarness.jpegOnly
        configuration.keptMetadata = [.copyright]
        try await FrontHarness.with(configuration) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let reply = try await HTTP.postFiles(front.base + "/photos", [phone.path])
            #expect(reply.status == 200, "\(reply.text)")
            let photo = try #require(try reply.json().photos.first)
            let original = try #require(photo.original)
            #expect(Set(original.removed ?? []).isSuperset(of: ["gps", "camera-make", "camera-serial", "xmp"]))
            // Orientation 6: shown 1600 wide and 2560 high.
            #expect(original.width == 1600 && original.height == 2560)

            let stored = try await HTTP.get(front.base + original.url!)
            #expect(stored.status == 200)
            let after = try await Self.exif(stored.body)
            let leaks = after.keys.filter {
                $0.hasPrefix("GPS:") || $0.hasPrefix("XMP") || $0.hasSuffix(":Make") || $0.hasSuffix(":Model")
                    || $0.hasSuffix(":SerialNumber") || $0.hasPrefix("MakerNotes") || $0.hasPrefix("IFD1:")
            }
            #expect(leaks.isEmpty, "left in the original: \(leaks.sorted())")
            #expect(after["IFD0:Orientation"] == "Rotate 90 CW")
            #expect(after["IFD0:Copyright"] == "Ann Example")

            // libvips' own header reader agrees, and the compressed pixels are the upload's, byte for byte.
            let info = try await FrontHarness.info(stored.body)
            #expect(info.width == 2560 && info.height == 1600 && info.orientation == 6)
            let uploaded = [UInt8](try Data(contentsOf: phone))
            #expect(Self.scanData([UInt8](stored.body)) == Self.scanData(uploaded))
        }
        // Without --keep-metadata the copyright goes too.
        try await FrontHarness.with { front in
            try await FrontHarness.waitUntilReady(front.base)
            let photo = try #require(try await HTTP.postFiles(front.base + "/photos", [phone.path]).json().photos.first)
            let after = try await Self.exif(try await HTTP.get(front.base + photo.original!.url!).body)
            #expect(after["IFD0:Copyright"] == nil && after["IFD0:Orientation"] == "Rotate 90 CW")
        }
    }

    @Test func everyFormatsOriginalIsKeptPrivatelyInTheRightForm() async throws {
        try await FrontHarness.with { front in
            try await FrontHarness.waitUntilReady(front.base)
            // name, stored format, pages, sizes' fallback format
            for (name, format, pages, sizes) in [
                ("photo.webp", ImageFormat.webp, 1, "jpeg"),  // rewritten: its EXIF chunk goes
                ("alpha.png", .png, 1, "png"),  // rewritten; transparency makes the sizes PNG
                ("animated.gif", .gif, 3, "png"),  // written again by libvips, every frame
            ] {
                let reply = try await HTTP.postFiles(
                    front.base + "/photos", [try FrontHarness.fixturePath("generated/\(name)")])
                #expect(reply.status == 200, "\(name): \(reply.text)")
                let photo = try #require(try reply.json().photos.first)
                let original = try #require(photo.original)
                #expect(original.format == format.rawValue, "\(name)")
                let stored = try await HTTP.get(front.base + original.url!)
                let info = try await FrontHarness.info(stored.body)
                #expect(info.format == format && info.pages == pages, "\(name): \(info.format) \(info.pages)")
                #expect(photo.sizes["small"]?.format == sizes, "\(name)")
                let exif = try await Self.exif(stored.body)
                #expect(
                    !exif.keys.contains { $0.hasPrefix("IFD0:") || $0.hasPrefix("ExifIFD:") || $0.hasPrefix("XMP") },
                    "\(name): \(exif.keys.sorted())")
            }
        }
    }

    @Test func theOriginalsColourProfileIsKeptByteForByte() async throws {
        let cmyk = try FrontHarness.fixturePath("generated/cmyk.jpg")  // CMYK with an ICC profile
        let uploaded = [UInt8](try Data(contentsOf: URL(fileURLWithPath: cmyk)))
        #expect(!Self.iccSegments(uploaded).isEmpty)
        try await FrontHarness.with { front in
            try await FrontHarness.waitUntilReady(front.base)
            let photo = try #require(try await HTTP.postFiles(front.base + "/photos", [cmyk]).json().photos.first)
            let stored = [UInt8](try await HTTP.get(front.base + photo.original!.url!).body)
            #expect(Self.iccSegments(stored) == Self.iccSegments(uploaded))
            #expect(Self.scanData(stored) == Self.scanData(uploaded))
            let info = try await FrontHarness.info(Data(stored))
            #expect(info.hasICCProfile && info.bands == 4)
        }
    }

    /// A JPEG's APP2 ICC_PROFILE segments, in order, before its first scan.
    static func iccSegments(_ jpeg: [UInt8]) -> [ArraySlice<UInt8>] {
        var segments: [ArraySlice<UInt8>] = []
        var position = 2
        while position + 4 <= jpeg.count, jpeg[position] == 0xFF, jpeg[position + 1] != 0xDA {
            let length = Int(jpeg[position + 2]) << 8 | Int(jpeg[position + 3])
            let segment = jpeg[position..<min(jpeg.count, position + 2 + length)]
            if jpeg[position + 1] == 0xE2, segment.dropFirst(4).starts(with: Array("ICC_PROFILE".utf8)) {
                segments.append(segment)
            }
            position += 2 + length
        }
        return segments
    }

    /// The bytes from a JPEG's first SOS marker to its EOI: the compressed pixels.
    static func scanData(_ jpeg: [UInt8]) -> ArraySlice<UInt8> {
        guard let start = (0..<jpeg.count - 1).first(where: { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xDA }) else {
            return []
        }
        return jpeg[start...]
    }

    @Test func eachSizeIsMadeInEveryFormatAndDensityAndServedByAccept() async throws {
        let configuration = FrontHarness.unhurried(
            FrontConfiguration(
                sizes: try SizePreset.list(
                    parsing: "thumb=200x200:crop=attention:quality=70,wide=640x480:format=png"),
                densities: [1, 2], formats: [.avif, .webp], deferredFormats: [], embeddedWorkers: 2))
        try await FrontHarness.with(configuration) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let reply = try await HTTP.postFiles(front.base + "/photos", [try FrontHarness.garden])
            #expect(reply.status == 200, "\(reply.text)")
            let photo = try #require(try reply.json().photos.first)
            let id = try #require(photo.id)
            let files = try FileManager.default.contentsOfDirectory(
                atPath: front.storage.appendingPathComponent(id).path)
            #expect(
                Set(files) == [
                    "original.jpg",
                    "thumb.jpg", "thumb.avif", "thumb.webp", "thumb@2x.jpg", "thumb@2x.avif", "thumb@2x.webp",
                    "wide.png", "wide.avif", "wide.webp", "wide@2x.png", "wide@2x.avif", "wide@2x.webp",
                ])
            // crop=attention fills the box exactly; @2x doubles it; the PNG preset's fallback is PNG.
            let thumb = try #require(photo.sizes["thumb"])
            #expect(thumb.width == 200 && thumb.height == 200 && thumb.format == "jpeg")
            #expect(
                thumb.variants?.map { "\($0.format)@\($0.density)=\($0.width ?? 0)" }
                    == ["jpeg@1=200", "avif@1=200", "webp@1=200", "jpeg@2=400", "avif@2=400", "webp@2=400"])
            #expect(photo.sizes["wide"]?.format == "png")

            let url = front.base + thumb.url!
            for (accept, type) in [
                ("image/avif,image/webp,image/apng,image/*,*/*;q=0.8", "image/avif"),  // Chromium
                ("image/webp,*/*", "image/webp"),  // a browser without AVIF
                ("image/avif;q=0,image/webp", "image/webp"),  // refused explicitly
                ("image/*,*/*;q=0.8", "image/jpeg"),  // an old browser: AVIF is not assumed
                ("", "image/jpeg"),
            ] {
                let served = try await HTTP.get(url, headers: accept.isEmpty ? [:] : ["Accept": accept])
                #expect(served.status == 200)
                #expect(served.headers["content-type"] == type, "Accept: \(accept)")
                #expect(served.headers["vary"] == "Accept")
                #expect(served.headers["cache-control"]?.contains("immutable") == true)
                #expect(try await FrontHarness.info(served.body).format.mimeType == type)
            }
            // One file by name: no negotiation.
            let exact = try await HTTP.get(
                front.base + "/photos/\(id)/thumb@2x.webp", headers: ["Accept": "image/avif"])
            #expect(exact.headers["content-type"] == "image/webp" && exact.headers["vary"] == nil)
            #expect(try await FrontHarness.info(exact.body).width == 400)
            // A preferred format not made yet: the fallback, but only cached for a minute.
            try FileManager.default.removeItem(
                at: front.storage.appendingPathComponent(id).appendingPathComponent("thumb.avif"))
            let fallback = try await HTTP.get(url, headers: ["Accept": "image/avif,image/webp"])
            #expect(fallback.headers["content-type"] == "image/webp")
            #expect(fallback.headers["cache-control"] == "public, max-age=60")
        }
    }

    @Test func avifIsMadeAfterTheUploadAnswersAndServedOnceItExists() async throws {
        let configuration = FrontHarness.unhurried(
            FrontConfiguration(
                sizes: try SizePreset.list(parsing: "small=100x100,large=1600x1200"), densities: [1, 2],
                embeddedWorkers: 2))
        #expect(configuration.formats == [.avif, .webp] && configuration.deferredFormats == [.avif])
        try await FrontHarness.with(configuration) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let photo = try #require(
                try await HTTP.postFiles(front.base + "/photos", [try FrontHarness.garden]).json().photos.first)
            let id = try #require(photo.id)
            let large = try #require(photo.sizes["large"])
            #expect(large.pending == ["avif"])
            #expect(large.variants?.map { "\($0.format)@\($0.density)" } == ["jpeg@1", "webp@1", "jpeg@2", "webp@2"])

            let folder = front.storage.appendingPathComponent(id)
            let deadline = ContinuousClock.now + .seconds(120)
            while !["small.avif", "small@2x.avif", "large.avif", "large@2x.avif"].allSatisfy({
                FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
            }) {
                guard ContinuousClock.now < deadline else { throw FrontTestFailure(description: "AVIF never came") }
                try await Task.sleep(for: .milliseconds(200))
            }
            let served = try await HTTP.get(front.base + large.url!, headers: ["Accept": "image/avif,image/webp"])
            #expect(served.headers["content-type"] == "image/avif")
            #expect(served.headers["cache-control"]?.contains("immutable") == true)
            #expect(try await FrontHarness.info(served.body).width == 1600)
        }
    }

    @Test func presetsAreCheckedWhenTheFrontStarts() throws {
        #expect(throws: FrontConfigurationError.self) { try SizePreset.list(parsing: "a=10x10:crop=sideways") }
        #expect(throws: FrontConfigurationError.self) { try SizePreset.list(parsing: "a=10x10:quality=0") }
        #expect(throws: FrontConfigurationError.self) { try SizePreset.list(parsing: "a=10x10:format=tiff") }
        #expect(throws: FrontConfigurationError.self) { try SizePreset.list(parsing: "a=10x10:colour=red") }
        #expect(throws: FrontConfigurationError.self) { try FrontConfiguration.formats(parsing: "avif,jpeg") }
        #expect(throws: FrontConfigurationError.self) { try FrontConfiguration.densities(parsing: "1,4") }
        #expect(throws: FrontConfigurationError.self) { try URLSigner(keys: ["too short"]) }
        #expect(try FrontConfiguration.densities(parsing: "2") == [1, 2])

        // A size whose own format is one of the modern ones is made once in it, as its fallback.
        let plan = VariantPlan(
            sizes: try SizePreset.list(parsing: "a=10x10:format=webp"), densities: [1], formats: [.avif, .webp])
        #expect(plan.variants(hasAlpha: false).map { "\($0.format)\($0.isFallback ? "*" : "")" } == ["webp*", "avif"])
        #expect(
            VariantPlan(sizes: plan.sizes, densities: [1, 2], formats: []).variants(hasAlpha: true).map(\.name)
                == ["a", "a@2x"])
    }

    @Test func withASigningKeyOnlySignedUnexpiredURLsAreServed() async throws {
        let old = "an-older-key-that-is-being-rotated-out"
        var configuration = FrontHarness.jpegOnly
        configuration.signer = try URLSigner(keys: [Self.key, old], lifetime: .seconds(3600))
        try await FrontHarness.with(configuration) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let photo = try #require(
                try await HTTP.postFiles(front.base + "/photos", [try FrontHarness.garden]).json().photos.first)
            let id = try #require(photo.id)
            let signed = try #require(photo.sizes["small"]?.url)
            #expect(signed.contains("?e=") && signed.contains("&s="))
            #expect(try await HTTP.get(front.base + signed).status == 200)
            #expect(try await HTTP.get(front.base + photo.original!.url!).status == 200)

            let path = "/photos/\(id)/small"
            for (url, reason) in [
                (path, "this URL needs a signature"),
                (
                    path + "?s=" + String(signed.split(separator: "=").last!.reversed()),
                    "the URL's signature does not match"
                ),
                (signed.replacingOccurrences(of: "/small?", with: "/medium?"), "the URL's signature does not match"),
                (signed.replacingOccurrences(of: "?e=", with: "?e=9"), "the URL's signature does not match"),
                (path + "?s=not*base64", "the URL's signature or expiry is malformed"),
                (
                    try URLSigner(keys: [Self.key], lifetime: .seconds(60)).sign(
                        path, now: Date(timeIntervalSinceNow: -120)),
                    "the URL has expired"
                ),
                (
                    try URLSigner(keys: ["a-stranger's-key-0123456789abcdef"]).sign(path),
                    "the URL's signature does not match"
                ),
            ] {
                let reply = try await HTTP.get(front.base + url)
                #expect(reply.status == 403, "\(url)")
                #expect(try reply.error().reason == reason, "\(url)")
            }
            // Signed with the older key, still in the list: accepted.
            let rotated = try URLSigner(keys: [old]).sign(path)
            #expect(try await HTTP.get(front.base + rotated).status == 200)
        }
    }

    @Test func aFullQueueIsAnswered429AtOnce() async throws {
        // One job runs at a time, held at the gate until the refusal is in: a refusal that waited for a slot
        // would wait until the front's job timeout (a 503), never a 429.
        let gate = Gate()
        let farm = try await TestFarm(function: "slow", delay: .zero, gate: gate)
        var configuration = FrontHarness.jpegOnly
        configuration.servers = [farm.address]
        configuration.function = "slow"
        configuration.maxConcurrentJobs = 1
        configuration.maxQueuedJobs = 2  // one upload's three sizes: one running, two waiting
        try await FrontHarness.with(configuration) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let first = Task { try await HTTP.postFiles(front.base + "/photos", [try FrontHarness.garden]) }
            let deadline = ContinuousClock.now + .seconds(10)
            while !(try await HTTP.get(front.base + "/healthz").text.contains("\"jobs_waiting\":2")) {
                guard ContinuousClock.now < deadline else {
                    throw FrontTestFailure(description: "the queue never filled")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            let refused: HTTPReply
            do {
                defer { gate.open() }
                refused = try await HTTP.postRaw(front.base + "/photos", try FrontHarness.garden)
            }
            #expect(refused.status == 429)
            #expect(refused.headers["retry-after"] == "5")
            #expect(try refused.error().reason.hasPrefix("too many photos are waiting"))
            #expect(try await first.value.status == 200)
        }
        await farm.shutdown()
    }

    @Test func aSizePastItsTimeLimitIsStoppedAndTheWorkerIsFreeAgain() async throws {
        // One worker; a size whose job (the 18 MP photo, not shrunk, as PNG) takes seconds, limited to half a second.
        let configuration = FrontConfiguration(
            sizes: try SizePreset.list(parsing: "huge=8000x8000>:format=png"), densities: [1], formats: [],
            jobTimeLimit: .milliseconds(500), embeddedWorkers: 1)
        try await FrontHarness.with(configuration) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let stopped = try await HTTP.postRaw(front.base + "/photos", try FrontHarness.elephants)
            #expect(stopped.status == 422)
            #expect(try stopped.error().reason == "time limit: stopped after 0.5 s")
            // The 422 comes from the stopped evaluation itself, once it has returned on the processor's thread
            // (how soon after the limit is WorkLimitTests'): the single worker then makes the next photo.
            let small = try await HTTP.postRaw(
                front.base + "/photos", try FrontHarness.fixturePath("generated/photo.jpg"))
            #expect(small.status == 200, "\(small.text)")
        }
    }

    @Test func aProgressiveJPEGOverItsOwnLimitIs413() async throws {
        let progressive = try await FrontHarness.processor.resize(
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: try FrontHarness.garden))),
            options: ResizeOptions(query: "scale=1&format=jpeg&interlace=true"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "progressive-\(PhotoStore.newID()).jpg")
        try Data(progressive.bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        var configuration = FrontHarness.jpegOnly
        configuration.limits = ImageLimits(maxInterlacedMegapixels: 2)
        try await FrontHarness.with(configuration) { front in
            let reply = try await HTTP.postFiles(front.base + "/photos", [file.path])
            #expect(reply.status == 413)
            #expect(try reply.error().reason == "too large: progressive 2560x1600 exceeds 2 MP")
            #expect(try await HTTP.postFiles(front.base + "/photos", [try FrontHarness.garden]).status == 200)
        }
    }

    @Test func backfillMakesTheFilesANewConfigurationAddsAndIsSafeToRunAgain() async throws {
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent("backfill-\(PhotoStore.newID())")
        defer { try? FileManager.default.removeItem(at: storage) }
        let before = FrontConfiguration(
            sizes: try SizePreset.list(parsing: "small=100x100"), densities: [1], formats: [], embeddedWorkers: 2)
        let ids = try await FrontHarness.with(before, storage: storage) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let reply = try await HTTP.postFiles(
                front.base + "/photos", [try FrontHarness.garden, try FrontHarness.fixturePath("generated/photo.jpg")])
            return try reply.json().photos.compactMap(\.id)
        }
        #expect(ids.count == 2)

        let farm = try await TestFarm(function: "thumbnail", delay: .zero)
        let after = FrontConfiguration(
            servers: [farm.address], sizes: try SizePreset.list(parsing: "small=100x100,medium=640x480"),
            densities: [1, 2], formats: [.webp], embeddedWorkers: 2)
        let store = try PhotoStore(root: storage.path)
        let backfill = PhotoBackfill(configuration: after, store: store)
        #expect(try await backfill.incompletePhotos() == ids.sorted())
        try await FrontHarness.with(after, storage: storage) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let client = GearmanClient(servers: [farm.address])
            #expect(try await backfill.queue(client: client) == 2)
            let deadline = ContinuousClock.now + .seconds(60)
            while try await !backfill.incompletePhotos().isEmpty {
                guard ContinuousClock.now < deadline else {
                    throw FrontTestFailure(description: "backfill never finished")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            // Run again: nothing left to queue.
            #expect(try await backfill.queue(client: client) == 0)
            await client.shutdown()
            for id in ids {
                let files = Set(
                    try FileManager.default.contentsOfDirectory(atPath: storage.appendingPathComponent(id).path))
                #expect(
                    files.isSuperset(of: [
                        "small.jpg", "small.webp", "small@2x.jpg", "small@2x.webp",
                        "medium.jpg", "medium.webp", "medium@2x.jpg", "medium@2x.webp",
                    ]))
                let served = try await HTTP.get(front.base + "/photos/\(id)/medium", headers: ["Accept": "image/webp"])
                #expect(served.headers["content-type"] == "image/webp")
            }
        }
        await farm.shutdown()
    }

    @Test func theEmbeddedFarmBackfillsAtStartWithTheFlag() async throws {
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent(
            "backfill-start-\(PhotoStore.newID())")
        defer { try? FileManager.default.removeItem(at: storage) }
        var before = FrontHarness.jpegOnly
        before.sizes = try SizePreset.list(parsing: "small=100x100")
        let id = try await FrontHarness.with(before, storage: storage) { front in
            try await FrontHarness.waitUntilReady(front.base)
            return try #require(
                try await HTTP.postFiles(front.base + "/photos", [try FrontHarness.garden]).json().photos.first?.id)
        }
        var after = before
        after.formats = [.webp]
        after.backfillAtStart = true
        let backfill = PhotoBackfill(configuration: after, store: try PhotoStore(root: storage.path))
        #expect(await backfill.isIncomplete(id: id))
        try await FrontHarness.with(after, storage: storage) { _ in
            let deadline = ContinuousClock.now + .seconds(60)
            while await backfill.isIncomplete(id: id) {
                guard ContinuousClock.now < deadline else {
                    throw FrontTestFailure(description: "no backfill at start")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(FileManager.default.fileExists(atPath: storage.appendingPathComponent("\(id)/small.webp").path))
    }

    @Test func gearboxFrontBackfillQueuesEveryIncompletePhotoAndWaitsForThem() async throws {
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent(
            "backfill-cli-\(PhotoStore.newID())")
        defer { try? FileManager.default.removeItem(at: storage) }
        let before = try await FrontProcess(["--sizes", "small=100x100"], storage: storage)
        do {
            try await FrontHarness.waitUntilReady(before.base)
            #expect(try await HTTP.postFiles(before.base + "/photos", [try FrontHarness.garden]).status == 200)
        }
        before.stop()

        // The front restarted with WebP added, working for a farm's job server, and the backfill run against it.
        let farm = try await TestFarm(function: "thumbnail", delay: .zero)
        let options = [
            "--server", "\(farm.address)", "--sizes", "small=100x100", "--formats", "webp", "--densities", "1",
        ]
        let after = try await FrontProcess(options, storage: storage)
        defer { after.stop() }
        try await FrontHarness.waitUntilReady(after.base)
        let backfill = ["front", "backfill", "--storage", storage.path, "--timeout", "60"] + options
        let first = try await ChildProcess.run(try gearboxBinary(), backfill, timeout: .seconds(90))
        let output = String(decoding: first.stdout, as: UTF8.self)
        #expect(first.status == 0, "\(output) \(first.stderr)")
        #expect(output.contains("backfill: queued 1 of 1 photos") && output.hasSuffix("backfill: done\n"), "\(output)")
        let id = try #require(try await PhotoStore(root: storage.path).photoIDs().first)
        #expect(FileManager.default.fileExists(atPath: storage.appendingPathComponent("\(id)/small.webp").path))

        let again = try await ChildProcess.run(try gearboxBinary(), backfill, timeout: .seconds(90))
        #expect(String(decoding: again.stdout, as: UTF8.self) == "backfill: every photo has every file\n")
        // Without a job server to queue on, it says what to do instead.
        let alone = try await ChildProcess.run(
            try gearboxBinary(), ["front", "backfill", "--storage", storage.path], timeout: .seconds(30))
        #expect(alone.status != 0 && alone.stderr.contains("gearbox front --backfill"))
        await farm.shutdown()
    }
}
