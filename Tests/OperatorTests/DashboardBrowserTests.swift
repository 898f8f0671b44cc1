import Foundation
import GearboxDashboard
import Logging
import ServiceLifecycle
import TestSupport
import Testing

/// The dashboard in headless Chromium, driven over WebDriver, against `OperatorEndpoint` on a free port with
/// a stand-in job server behind it. The screenshot is kept in `.build/test-artifacts/dashboard.png`.
@Suite(.serialized) struct DashboardBrowserTests {
    static let functionRows = "return document.querySelectorAll('#functions tr[data-function]').length"

    /// Runs `OperatorEndpoint` over `server` on a port the kernel picks, hands `body` its base URL, then shuts
    /// it down.
    static func serving(_ server: StandInServer, _ body: @Sendable (String) async throws -> Void) async throws {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "test.dashboard")
        logger.logLevel = .warning
        let endpoint = OperatorEndpoint(
            host: "127.0.0.1", port: 0, view: server.view(), exposition: nil, logger: logger,
            onServerRunning: { port in continuation.yield(port) })
        let group = ServiceGroup(services: [endpoint], logger: logger)
        let running = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await running.value
            throw TestFailure("the operator endpoint stopped before listening")
        }
        do {
            try await body("http://127.0.0.1:\(port)")
            await group.triggerGracefulShutdown()
            try await running.value
        } catch {
            await group.triggerGracefulShutdown()
            _ = await running.result
            throw error
        }
    }

    /// Runs `script` in the page until `done` accepts what it returns, or `timeout` passes; answers the last
    /// value.
    @discardableResult
    static func poll(
        _ webDriver: WebDriver, _ session: String, _ script: String, _ arguments: [String] = [],
        timeout: Duration = .seconds(20), until done: (Any?) -> Bool
    ) async throws -> Any? {
        let deadline = ContinuousClock.now + timeout
        var value = try await webDriver.execute(session, script, arguments)
        while !done(value) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            value = try await webDriver.execute(session, script, arguments)
        }
        return value
    }

    /// Clicks the element `css` finds; the page rebuilds its tables every 2 seconds, so a button found just
    /// before a rebuild is looked up again.
    static func click(_ webDriver: WebDriver, _ session: String, css: String) async throws {
        for attempt in 1...3 {
            do {
                let element = try await webDriver.element(session, css: css)
                try await webDriver.command(session, "element/\(element)/click", [:])
                return
            } catch  where attempt < 3 {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    @Test(
        .enabled(
            if: HeadlessChromium.available, "chromium and chromium-driver are not installed (make test installs them)"))
    func theFunctionsShowAsTextAndADeadLetterIsRetriedByItsButton() async throws {
        let server = StandInServer()
        try await Self.serving(server) { base in
            try await HeadlessChromium.session { webDriver, session in
                try await webDriver.command(session, "url", ["url": base + "/"])
                let rows = try await Self.poll(webDriver, session, Self.functionRows) { $0 as? Int == 3 }
                #expect(rows as? Int == 3)

                let names = try await webDriver.execute(
                    session,
                    "return Array.from(document.querySelectorAll('#functions tr[data-function]'))"
                        + ".map(row => row.cells[0].textContent).join('\\n')")
                #expect(names as? String == ["resize", "thumbnail", StandInServer.scriptName].joined(separator: "\n"))
                // The name is text: no element was made of it, and the page still has only its own script.
                let scripts = try await webDriver.execute(session, "return document.querySelectorAll('script').length")
                #expect(scripts as? Int == 1)
                let store = try await webDriver.execute(session, "return document.getElementById('store').textContent")
                #expect(store as? String == "sqlite:/tmp/stand-in.db")
                let groupShown = try await webDriver.execute(session, "return !document.getElementById('group').hidden")
                #expect(groupShown as? Bool == true)

                let handle = "H:stand-in:42"
                let deadRow = "#dead tr[data-handle=\"\(handle)\"]"
                try await Self.click(webDriver, session, css: deadRow + " button[data-action=\"retry\"]")
                let gone = try await Self.poll(
                    webDriver, session, "return document.querySelectorAll('\(deadRow)').length"
                ) { $0 as? Int == 0 }
                #expect(gone as? Int == 0, "the retried dead letter is still shown")
                #expect(server.retries == [.init(function: StandInServer.scriptName, handle: handle)])
                #expect(server.deadHandles == ["H:stand-in:41"])
                // Queued again at normal priority: 7 became 8.
                let queued = try await Self.poll(
                    webDriver, session,
                    "return Array.from(document.querySelectorAll('#functions tr[data-function]'))"
                        + ".find(row => row.dataset.function === arguments[0]).cells[2].textContent",
                    [StandInServer.scriptName], until: { $0 as? String == "8" })
                #expect(queued as? String == "8")

                let file = try await HeadlessChromium.keepScreenshot(webDriver, session, name: "dashboard.png")
                #expect(try Data(contentsOf: file).starts(with: [0x89, 0x50, 0x4E, 0x47]))
            }
        }
    }

    @Test(
        .enabled(
            if: HeadlessChromium.available, "chromium and chromium-driver are not installed (make test installs them)"))
    func theButtonsAreDisabledWithTheReasonWhereTheAddressMayNotChangeState() async throws {
        let server = StandInServer(mayChangeState: false)
        try await Self.serving(server) { base in
            try await HeadlessChromium.session { webDriver, session in
                try await webDriver.command(session, "url", ["url": base + "/"])
                try await Self.poll(webDriver, session, Self.functionRows) { $0 as? Int == 3 }
                let buttons = try await webDriver.execute(
                    session,
                    "return Array.from(document.querySelectorAll('button[data-action]'))"
                        + ".map(b => b.disabled + ' ' + b.title.includes('--admin-allow')).join(',')")
                // Retry and purge for each of the two dead letters, and "retry all" for their two functions.
                #expect(buttons as? String == Array(repeating: "true true", count: 6).joined(separator: ","))
            }
        }
        #expect(server.retries.isEmpty && server.purges.isEmpty)
    }
}
