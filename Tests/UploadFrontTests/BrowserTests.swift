import Foundation
import TestSupport
import Testing
import UploadFront

/// Headless Chromium, driven over WebDriver by Debian's chromedriver, opens the upload page, picks a photo
/// and waits for its thumbnails, which it must take as WebP from the page's `<picture>` sources (AVIF is
/// made after the upload answers), with every URL signed; once the AVIF files exist, it opens a size's
/// negotiated URL itself and must be sent AVIF. The screenshot is kept in `.build/test-artifacts/`.
@Suite(.serialized) struct BrowserTests {
    @Test(
        .enabled(
            if: HeadlessChromium.available, "chromium and chromium-driver are not installed (make test installs them)"))
    func thePageShowsTheThumbnailsAsWebPAndTheBrowserIsSentAVIFOnceMade() async throws {
        let configuration = FrontHarness.unhurried(
            FrontConfiguration(
                densities: [1, 2], formats: [.avif, .webp], embeddedWorkers: 2,
                signer: try URLSigner(keys: ["browser-test-key-0123456789abcdef-0123"], lifetime: .seconds(600))))
        try await FrontHarness.with(configuration) { front in
            try await FrontHarness.waitUntilReady(front.base)
            try await HeadlessChromium.session { webDriver, session in
                try await webDriver.command(session, "url", ["url": front.base + "/"])
                let input = try await webDriver.element(session, css: "#files")
                try await webDriver.command(session, "element/\(input)/value", ["text": try FrontHarness.garden])

                let deadline = ContinuousClock.now + .seconds(90)
                var loaded = 0
                while loaded < 3 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                    let value = try await webDriver.command(
                        session, "execute/sync",
                        [
                            "script": "return document.querySelectorAll('figure.loaded img.thumb').length",
                            "args": [String](),
                        ])
                    loaded = (value as? Int) ?? 0
                }
                let widths = try await webDriver.command(
                    session, "execute/sync",
                    [
                        "script":
                            "return Array.from(document.querySelectorAll('img.thumb')).map(i => i.dataset.size + '=' + i.naturalWidth).join(',')",
                        "args": [String](),
                    ])
                let sources = try await webDriver.command(
                    session, "execute/sync",
                    [
                        "script":
                            "return Array.from(document.querySelectorAll('img.thumb')).map(i => new URL(i.currentSrc).pathname + '?' + (new URL(i.currentSrc).searchParams.has('s'))).join(',')",
                        "args": [String](),
                    ])
                let screenshot = try await webDriver.screenshot(session)
                try FileManager.default.createDirectory(
                    at: HeadlessChromium.artifacts, withIntermediateDirectories: true)
                let file = HeadlessChromium.artifacts.appendingPathComponent("front-upload.png")
                try screenshot.write(to: file)
                print("browser test screenshot: \(file.path)")

                #expect(loaded == 3, "thumbnails loaded: \(loaded)")
                #expect(widths as? String == "small=100,medium=640,large=1600")
                // Chromium decodes WebP, so <picture> gave it the WebP source, at 1x, signed.
                let paths = ((sources as? String) ?? "").split(separator: ",")
                #expect(
                    paths.count == 3 && paths.allSatisfy { $0.hasSuffix(".webp?true") },
                    "\(String(describing: sources))")
                #expect(screenshot.starts(with: [0x89, 0x50, 0x4E, 0x47]))
                let status = try await webDriver.command(
                    session, "execute/sync",
                    ["script": "return document.querySelector('.status').textContent", "args": [String]()])
                #expect((status as? String)?.hasPrefix("done in") == true, "\(String(describing: status))")

                // The negotiated URL, opened by the browser itself once the AVIF files are made: its Accept names
                // AVIF, so AVIF comes back.
                let avifDeadline = ContinuousClock.now + .seconds(120)
                while (try? FileManager.default.subpathsOfDirectory(atPath: front.storage.path))?
                    .filter({ $0.hasSuffix(".avif") }).count ?? 0 < 6
                {
                    guard ContinuousClock.now < avifDeadline else {
                        throw FrontTestFailure(description: "AVIF never came")
                    }
                    try await Task.sleep(for: .milliseconds(200))
                }
                let link = try await webDriver.command(
                    session, "execute/sync",
                    ["script": "return document.querySelector('figure.loaded a').href", "args": [String]()])
                let href = try #require(link as? String)
                #expect(!href.contains(".avif") && href.contains("?"))
                try await webDriver.command(session, "url", ["url": href])
                let contentType = try await webDriver.command(
                    session, "execute/sync", ["script": "return document.contentType", "args": [String]()])
                #expect(contentType as? String == "image/avif")
            }
        }
    }

    /// A page with an `<img>` of a size no preset names, signed: the browser loads it at that width.
    @Test(
        .enabled(
            if: HeadlessChromium.available, "chromium and chromium-driver are not installed (make test installs them)"))
    func anImageOfASignedSizeNeverConfiguredLoadsAtThatWidth() async throws {
        let (storage, id) = try TransformTests.seededStorage()
        defer { try? FileManager.default.removeItem(at: storage) }
        let signer = try URLSigner(keys: ["browser-test-key-0123456789abcdef-0123"], lifetime: .seconds(600))
        var configuration = FrontHarness.jpegOnly
        configuration.formats = [.webp]
        configuration.signer = signer
        try await FrontHarness.with(configuration, storage: storage) { front in
            try await FrontHarness.waitUntilReady(front.base)
            let source = front.base + (try TransformTests.signed(signer, id: id, "size=345x123&crop=attention"))
            try await HeadlessChromium.session { webDriver, session in
                try await webDriver.command(session, "url", ["url": front.base + "/"])
                try await webDriver.command(
                    session, "execute/sync",
                    [
                        "script":
                            "const image = document.createElement('img'); image.id = 'any-size'; image.src = arguments[0]; document.body.append(image);",
                        "args": [source],
                    ])
                // `complete` turns true once the image has loaded, or failed (then its width is 0).
                let deadline = ContinuousClock.now + .seconds(60)
                var state = ""
                while ContinuousClock.now < deadline {
                    let value = try await webDriver.command(
                        session, "execute/sync",
                        [
                            "script":
                                "const image = document.getElementById('any-size'); return image.complete ? image.naturalWidth + 'x' + image.naturalHeight : '';",
                            "args": [String](),
                        ])
                    state = (value as? String) ?? ""
                    if !state.isEmpty { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(state == "345x123")
            }
        }
    }
}
