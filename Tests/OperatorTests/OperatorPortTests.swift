import Foundation
import Gearman
import NIOConcurrencyHelpers
import NIOCore
import TestSupport
import Testing

/// `gearbox server --metrics-port` as a process, with a Gearbox worker: the operator's API answers a kept
/// result and a dead letter by handle and lists the server's functions and workers, and in headless Chromium
/// the dashboard shows the functions and retries a dead job with its button.
@Suite(.serialized) struct OperatorPortTests {
    struct Jammed: Error, CustomStringConvertible {
        var description: String { "the printer is jammed" }
    }

    /// `print` fails until told otherwise; `mail` answers "sent to " and the workload.
    final class Worker: Sendable {
        private let state = NIOLockedValueBox<(printerFixed: Bool, printed: [String])>((false, []))
        private let worker: GearmanWorker
        private let task: Task<Void, any Error>

        init(port: Int) {
            let worker = GearmanWorker(servers: [GearmanServerAddress(host: "127.0.0.1", port: port)])
            let state = self.state
            worker.register("print") { job in
                let fixed = state.withLockedValue { state in
                    if state.printerFixed { state.printed.append(String(buffer: job.workload)) }
                    return state.printerFixed
                }
                guard fixed else { throw Jammed() }
                return ByteBuffer()
            }
            worker.register("mail") { job in ByteBuffer(string: "sent to " + String(buffer: job.workload)) }
            self.worker = worker
            task = Task { try await worker.run() }
        }

        func fixThePrinter() { state.withLockedValue { $0.printerFixed = true } }
        var printed: [String] { state.withLockedValue { $0.printed } }

        func stop() async {
            worker.shutdown()
            _ = try? await task.value
        }
    }

    /// A started server, its operator port's base URL, and a worker; all stopped afterwards.
    static func withServer(_ body: (Int, String, Worker) async throws -> Void) async throws {
        let operatorPort = try freePort()
        let (server, port) = try await startJobServer(try gearboxBinary()) {
            [
                "server", "--port", "\($0)", "--metrics-port", "\(operatorPort)", "--keep-results", "mail=1h",
                "--retries", "print=1", "--retry-backoff", "1s..1s",
            ]
        }
        defer { server.stop() }
        try await waitUntilListening(port: operatorPort, while: server)
        let worker = Worker(port: port)
        do {
            try await body(port, "http://127.0.0.1:\(operatorPort)", worker)
        } catch {
            await worker.stop()
            throw error
        }
        await worker.stop()
    }

    static func get(_ url: String) async throws -> (status: Int, body: Data) {
        try await curl(["-s", "-o", "-", "-w", "\n%{http_code}", url])
    }

    static func post(_ url: String, headers: [String] = []) async throws -> (status: Int, body: Data) {
        try await curl(
            ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", "POST"] + headers.flatMap { ["-H", $0] } + [url])
    }

    private static func curl(_ arguments: [String]) async throws -> (status: Int, body: Data) {
        let result = try await ChildProcess.run("curl", ["--max-time", "10"] + arguments)
        guard result.status == 0 else { throw TestFailure("curl failed: \(result.stderr)") }
        var lines = result.stdout.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let status = Int(String(decoding: lines.removeLast(), as: UTF8.self)) ?? 0
        return (status, Data(lines.joined(separator: [UInt8(ascii: "\n")])))
    }

    static func json(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Submits `function` in the background; answers the job's handle.
    static func submit(_ function: String, _ workload: String, port: Int) async throws -> String {
        let client = GearmanClient(servers: [GearmanServerAddress(host: "127.0.0.1", port: port)])
        let handle = try await client.submitBackground(function, workload: Array(workload.utf8))
        await client.shutdown()
        return handle.text
    }

    static func waitForState(_ state: String, of handle: String, base: String) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let (status, body) = try await get(base + "/api/jobs/" + handle)
            if status == 200 {
                last = try json(body)
                if last["state"] as? String == state { return last }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("\(handle) never reached \(state): \(last)")
    }

    @Test func theAPIAnswersAKeptResultADeadLetterAndTheServersFunctionsAndWorkers() async throws {
        try await Self.withServer { port, base, _ in
            let mail = try await Self.submit("mail", "ada@example.com", port: port)
            let completed = try await Self.waitForState("completed", of: mail, base: base)
            #expect(completed["function"] as? String == "mail")
            let result = try #require(completed["result_base64"] as? String)
            #expect(Data(base64Encoded: result) == Data("sent to ada@example.com".utf8))
            let raw = try await Self.get(base + "/api/jobs/" + mail + "/result")
            #expect(raw.status == 200 && raw.body == Data("sent to ada@example.com".utf8))

            let print = try await Self.submit("print", "page 1", port: port)
            let dead = try await Self.waitForState("dead", of: print, base: base)
            #expect(dead["attempts"] as? Int == 2)
            #expect(dead["last_error"] as? String == "the printer is jammed")

            let overview = try Self.json(try await Self.get(base + "/api/overview").body)
            let functions = try #require(overview["functions"] as? [[String: Any]])
            #expect(Set(functions.compactMap { $0["name"] as? String }) == ["mail", "print"])
            let deadLetters = try #require(overview["dead"] as? [[String: Any]])
            #expect(deadLetters.map { $0["handle"] as? String } == [print])
            let workers = try #require(overview["workers"] as? [[String: Any]])
            #expect(workers.count == 1)
            #expect(Set(workers.first?["functions"] as? [String] ?? []) == ["mail", "print"])
            #expect((overview["server"] as? [String: Any])?["may_change_state"] as? Bool == true)

            #expect(try await Self.get(base + "/api/jobs/H:nowhere:1").status == 404)
            #expect(try await Self.post(base + "/api/dead/purge?function=print").status == 403, "no request header")
            let metrics = try await Self.get(base + "/metrics")
            #expect(String(decoding: metrics.body, as: UTF8.self).contains("gearbox_jobs_completed_total"))
        }
    }

    @Test(
        .enabled(
            if: HeadlessChromium.available, "chromium and chromium-driver are not installed (make test installs them)"))
    func theDashboardShowsTheFunctionsAndItsButtonRetriesADeadJob() async throws {
        try await Self.withServer { port, base, worker in
            _ = try await Self.submit("mail", "grace@example.com", port: port)
            let printJob = try await Self.submit("print", "page 2", port: port)
            _ = try await Self.waitForState("dead", of: printJob, base: base)
            try await HeadlessChromium.session { webDriver, session in
                try await webDriver.command(session, "url", ["url": base + "/"])
                let rows = try await DashboardBrowserTests.poll(
                    webDriver, session, DashboardBrowserTests.functionRows
                ) { $0 as? Int == 2 }
                #expect(rows as? Int == 2, "a row per function")
                let deadRow = "#dead tr[data-handle=\"\(printJob)\"]"
                let shown = try await DashboardBrowserTests.poll(
                    webDriver, session, "return document.querySelectorAll('\(deadRow)').length"
                ) { $0 as? Int == 1 }
                #expect(shown as? Int == 1, "the dead job is listed")
                let screenshot = try await HeadlessChromium.keepScreenshot(
                    webDriver, session, name: "dashboard-server.png")
                print("dashboard screenshot: \(screenshot.path)")

                worker.fixThePrinter()
                try await DashboardBrowserTests.click(
                    webDriver, session, css: deadRow + " button[data-action=\"retry\"]")
                let gone = try await DashboardBrowserTests.poll(
                    webDriver, session, "return document.querySelectorAll('\(deadRow)').length"
                ) { $0 as? Int == 0 }
                #expect(gone as? Int == 0, "the retried job left the dead letters")
            }
            try await waitUntil("the retried job ran", timeout: .seconds(30)) { worker.printed == ["page 2"] }
            #expect(try await adminReply(port: port, "dead") { _ in true } == ".\n")
        }
    }
}
