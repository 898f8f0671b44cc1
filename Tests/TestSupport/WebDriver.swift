import Foundation

/// The few WebDriver commands the browser tests need, as JSON over HTTP to chromedriver (made with curl).
public struct WebDriver: Sendable {
    public let base: String

    public init(base: String) {
        self.base = base
    }

    /// A new headless Chromium session; answers its id.
    public func startSession(chromium: String) async throws -> String {
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": chromium,
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--window-size=1280,1000",
                        ],
                    ],
                ]
            ]
        ]
        let value = try await request("POST", "/session", capabilities)
        guard let session = (value as? [String: Any])?["sessionId"] as? String else {
            throw TestFailure("no session in \(String(describing: value))")
        }
        return session
    }

    public func endSession(_ session: String) async throws {
        _ = try await request("DELETE", "/session/\(session)", nil)
    }

    /// The id of the first element that matches `css`.
    public func element(_ session: String, css: String) async throws -> String {
        let value = try await command(session, "element", ["using": "css selector", "value": css])
        guard let id = (value as? [String: Any])?["element-6066-11e4-a52e-4f735466cecf"] as? String else {
            throw TestFailure("no element \(css): \(String(describing: value))")
        }
        return id
    }

    /// The page as a PNG image.
    public func screenshot(_ session: String) async throws -> Data {
        let value = try await request("GET", "/session/\(session)/screenshot", nil)
        guard let text = value as? String, let data = Data(base64Encoded: text) else {
            throw TestFailure("no screenshot")
        }
        return data
    }

    /// `POST /session/{session}/{path}` with `body`; answers the reply's `value`.
    @discardableResult
    public func command(_ session: String, _ path: String, _ body: [String: Any]) async throws -> Any? {
        try await request("POST", "/session/\(session)/\(path)", body)
    }

    /// Runs `script` in the page (`arguments` as its `arguments`); answers what it returns.
    @discardableResult
    public func execute(_ session: String, _ script: String, _ arguments: [String] = []) async throws -> Any? {
        try await command(session, "execute/sync", ["script": script, "args": arguments])
    }

    private func request(_ method: String, _ path: String, _ body: [String: Any]?) async throws -> Any? {
        var arguments = ["-sS", "-X", method, base + path, "--max-time", "60", "-w", "\n%{http_code}"]
        if let body {
            let data = try JSONSerialization.data(withJSONObject: body)
            arguments += [
                "-H", "Content-Type: application/json", "--data-binary", String(decoding: data, as: UTF8.self),
            ]
        }
        let reply = try await ChildProcess.run("curl", arguments, timeout: .seconds(70))
        guard reply.status == 0 else {
            throw TestFailure("WebDriver \(method) \(path): curl failed: \(reply.stderr)")
        }
        // The body, then a line with the status code (`-w`).
        let output = reply.stdout
        let newline = output.lastIndex(of: UInt8(ascii: "\n")) ?? output.startIndex
        let status = Int(String(decoding: output[output.index(after: newline)...], as: UTF8.self))
        let text = output[..<newline]
        guard status == 200 else {
            throw TestFailure(
                "WebDriver \(method) \(path): \(status.map(String.init) ?? "no status") "
                    + String(decoding: text, as: UTF8.self))
        }
        let json = try JSONSerialization.jsonObject(with: Data(text)) as? [String: Any]
        let value = json?["value"]
        return value is NSNull ? nil : value
    }
}
