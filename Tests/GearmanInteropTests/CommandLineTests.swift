import Foundation
import Gearman
import NIOCore
import TestSupport
import Testing

/// `gearbox submit`, `gearbox worker` and `gearbox admin` against each server, and against libgearman's
/// `gearman` tool as client or worker.
@Suite struct CommandLineTests {
    static let limit = Duration.seconds(120)

    /// Starts `gearbox worker` and waits until the server lists its functions.
    func gearboxWorker(_ server: TestServer, _ functions: String, concurrency: Int = 2) async throws -> ChildProcess {
        let worker = try ChildProcess(
            try gearboxBinary(),
            [
                "worker", "-f", functions, "--server", server.address.description, "-c", "\(concurrency)",
                "--client-id", "cli-worker",
            ])
        for function in functions.split(separator: ",") {
            try await server.waitForStatus(String(function)) { $0[2] >= 1 }
        }
        return worker
    }

    /// Starts `gearman -w` running `command` for each job and waits until the server lists it.
    func gearmanWorker(_ server: TestServer, _ function: String, _ command: [String]) async throws -> ChildProcess {
        let worker = try ChildProcess(
            "gearman", ["-w", "-h", "127.0.0.1", "-p", "\(server.port)", "-f", function, "--"] + command)
        try await server.waitForStatus(function) { $0[2] >= 1 }
        return worker
    }

    func submit(_ server: TestServer, _ arguments: [String], input: Data = Data()) async throws -> (
        status: Int32, stdout: Data, stderr: Data
    ) {
        try await runToEnd(
            try gearboxBinary(), ["submit", "--server", server.address.description] + arguments, input: input)
    }

    /// `gearbox submit -n`: a job per line, results in the order of the input whatever order they finish in.
    @Test(arguments: ServerKind.allCases)
    func linesAreJobsWithResultsInInputOrder(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let worker = try await gearboxWorker(server, "reverse", concurrency: 8)
        try await withDeadline(Self.limit) {
            let lines = (1...500).map { "line \($0) " + String(repeating: "x", count: $0 % 7) }
            let result = try await submit(
                server, ["-n", "-f", "reverse", "--max-in-flight", "16"],
                input: Data((lines.joined(separator: "\n") + "\n").utf8))
            #expect(result.status == 0, "\(String(decoding: result.stderr, as: UTF8.self))")
            let expected = lines.map { String($0.reversed()) + "\n" }.joined()
            #expect(String(decoding: result.stdout, as: UTF8.self) == expected)

            let failed = try await submit(
                server, ["-n", "-f", "nobody-serves-this", "--timeout", "0.5"], input: Data("a\nb\n".utf8))
            #expect(failed.status == 1)
            let errors = String(decoding: failed.stderr, as: UTF8.self)
            #expect(errors.contains("line 1: timed out") && errors.contains("line 2: timed out"), "\(errors)")
        }
        _ = worker
    }

    /// `tail -f access_log | gearbox submit -n -b -f logger`: lines are queued as they come, not at the end
    /// of the input.
    @Test(arguments: ServerKind.allCases)
    func aStreamThatStaysOpenIsQueuedAsItComes(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        try await withDeadline(Self.limit) {
            let submitter = try ChildProcess(
                try gearboxBinary(), ["submit", "-n", "-b", "-f", "logger", "--server", server.address.description])
            defer { submitter.stop() }
            try submitter.write(Data("GET /a\nGET /b\nGET /c\n".utf8))
            try await server.waitForStatus("logger") { $0[0] == 3 }
            #expect(submitter.isRunning)
            try submitter.write(Data((1...2000).map { "GET /\($0)\n" }.joined().utf8))
            submitter.closeInput()
            #expect(try await submitter.wait(timeout: .seconds(60)) == 0, "\(submitter.standardErrorText)")
            try await server.waitForStatus("logger") { $0[0] == 2003 }
            #expect(submitter.standardOutputText.isEmpty)
        }
    }

    @Test(arguments: ServerKind.allCases)
    func gearmanClientAgainstGearboxWorker(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let worker = try await gearboxWorker(server, "reverse,echo")
        try await withDeadline(Self.limit) {
            let result = try await runToEnd(
                "gearman", ["-h", "127.0.0.1", "-p", "\(server.port)", "-f", "reverse", "hello"])
            #expect(result.status == 0)
            #expect(String(decoding: result.stdout, as: UTF8.self).hasPrefix("olleh"))
            let workers = try await server.admin("workers")
            #expect(workers.contains("cli-worker"))
        }
        _ = worker
    }

    @Test(arguments: ServerKind.allCases)
    func gearboxSubmitAgainstGearmanWorker(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let upper = try await gearmanWorker(server, "upper", ["tr", "a-z", "A-Z"])
        let cat = try await gearmanWorker(server, "cat", ["cat"])
        try await withDeadline(Self.limit) {
            let text = try await submit(server, ["-f", "upper", "hello gearman"])
            #expect(text.status == 0)
            #expect(String(decoding: text.stdout, as: UTF8.self) == "HELLO GEARMAN")

            let binary = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
            let echoed = try await submit(server, ["-f", "cat"], input: binary)
            #expect(echoed.status == 0)
            #expect(echoed.stdout == binary)
        }
        _ = (upper, cat)
    }

    @Test(arguments: ServerKind.allCases)
    func gearboxSubmitAgainstGearboxWorker(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let worker = try await gearboxWorker(server, "reverse,echo,sleep,exception,fail")
        try await withDeadline(Self.limit) {
            let binary = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 13) })
            let echoed = try await submit(server, ["-f", "echo"], input: binary)
            #expect(echoed.status == 0)
            #expect(echoed.stdout == binary)

            let reversed = try await submit(server, ["-f", "reverse", "--priority", "high", "--unique", "u-1", "abc"])
            #expect(String(decoding: reversed.stdout, as: UTF8.self) == "cba")

            let exception = try await submit(server, ["-f", "exception", "disk on fire"])
            #expect(exception.status != 0)
            #expect(String(decoding: exception.stderr, as: UTF8.self).contains("disk on fire"))

            let failure = try await submit(server, ["-f", "fail", "x"])
            #expect(failure.status != 0)
            #expect(String(decoding: failure.stderr, as: UTF8.self).contains("failed"))

            let timeout = try await submit(server, ["-f", "sleep", "--timeout", "0.2", "5"])
            #expect(timeout.status != 0)
            #expect(String(decoding: timeout.stderr, as: UTF8.self).contains("timed out"))

            let background = try await submit(server, ["-f", "echo", "--background", "later"])
            #expect(background.status == 0)
            #expect(String(decoding: background.stdout, as: UTF8.self).hasPrefix("H:"))
        }
        _ = worker
    }

    @Test(arguments: ServerKind.allCases)
    func gearboxSubmitFailsWhenNoServerListens(kind: ServerKind) async throws {
        let port = try freePort()
        let result = try await runToEnd(
            try gearboxBinary(), ["submit", "--server", "127.0.0.1:\(port)", "-f", "echo", "x"])
        #expect(result.status != 0)
        #expect(String(decoding: result.stderr, as: UTF8.self).contains("no job server available"))
    }

    @Test(arguments: ServerKind.allCases)
    func gearboxAdminReadsTheServer(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let worker = try await gearboxWorker(server, "echo")
        try await withDeadline(Self.limit) {
            let raw = try await runToEnd(
                try gearboxBinary(), ["admin", "status", "--raw", "--server", server.address.description])
            #expect(raw.status == 0)
            let direct = try await server.admin("status")
            #expect(String(decoding: raw.stdout, as: UTF8.self) == direct)

            let table = try await runToEnd(
                try gearboxBinary(), ["admin", "workers", "--server", server.address.description])
            let text = String(decoding: table.stdout, as: UTF8.self)
            #expect(text.hasPrefix("FD"))
            #expect(text.contains("cli-worker"))

            let version = try await runToEnd(
                try gearboxBinary(), ["admin", "version", "--server", server.address.description])
            #expect(version.status == 0)
            #expect(String(decoding: version.stdout, as: UTF8.self).hasPrefix("OK "))

            let cancel = try await runToEnd(
                try gearboxBinary(), ["admin", "cancel", "H:nowhere:1", "--server", server.address.description])
            #expect(cancel.status != 0)
        }
        _ = worker
    }

    @Test(arguments: ServerKind.allCases)
    func gearboxWorkerStopsGracefullyOnSIGTERM(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let worker = try await gearboxWorker(server, "sleep")
        let client = GearmanClient(servers: [server.address])
        try await withDeadline(Self.limit) {
            var events = try await client.stream("sleep", workload: ByteBuffer(string: "3")).makeAsyncIterator()
            try await waitUntilStarted(&events)
            worker.signal(SIGTERM)
            #expect(try await result(&events).map(String.init(buffer:)) == "3")
            #expect(try await worker.wait(timeout: .seconds(30)) == 0)
        }
        await client.shutdown()
    }
}
