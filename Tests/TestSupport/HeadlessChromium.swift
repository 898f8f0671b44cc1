import Foundation

/// Headless Chromium driven through Debian's chromedriver, for the tests of pages: where the two programs
/// are, and a session that ends, with its driver, whatever the test does.
public enum HeadlessChromium {
    public static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    public static let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    public static var available: Bool { chromium != nil && chromedriver != nil }

    /// Where browser tests keep their screenshots.
    public static let artifacts = packageRoot.appendingPathComponent(".build/test-artifacts")

    /// Runs `body` in a fresh headless Chromium session through chromedriver, and ends the session and the
    /// driver whatever `body` does.
    public static func session(_ body: (WebDriver, String) async throws -> Void) async throws {
        guard let chromium, let chromedriver else {
            throw TestFailure("chromium and chromium-driver are not installed (make test installs them)")
        }
        let driverPort = try freePort()
        let driver = try ChildProcess(chromedriver, ["--port=\(driverPort)"])
        defer { driver.stop() }
        try await waitUntilListening(port: driverPort, while: driver)
        let webDriver = WebDriver(base: "http://127.0.0.1:\(driverPort)")
        let session = try await webDriver.startSession(chromium: chromium)
        do {
            try await body(webDriver, session)
        } catch {
            try? await webDriver.endSession(session)
            throw error
        }
        try await webDriver.endSession(session)
    }

    /// Writes a screenshot of the session's page to `artifacts/name`, and says where in the test's output.
    @discardableResult
    public static func keepScreenshot(_ webDriver: WebDriver, _ session: String, name: String) async throws -> URL {
        let screenshot = try await webDriver.screenshot(session)
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        let file = artifacts.appendingPathComponent(name)
        try screenshot.write(to: file)
        print("browser test screenshot: \(file.path)")
        return file
    }
}
