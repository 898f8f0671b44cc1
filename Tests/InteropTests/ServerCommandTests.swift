import Foundation
import TestSupport
import Testing

/// The `gearbox server` binary as a user runs it.
@Suite(.serialized) struct ServerCommandTests {
    @Test func servesGearmanToolsAndStopsCleanlyOnSIGTERM() async throws {
        let (server, port) = try await startJobServer(try gearboxBinary()) {
            ["server", "--port", "\($0)", "--verbose", "INFO"]
        }
        let worker = try ChildProcess("gearman", ["-p", "\(port)", "-w", "-f", "reverse", "--", "rev"])
        defer { worker.stop() }
        try await waitForWorkers(port: port, function: "reverse", count: 1)
        let result = try await ChildProcess.run(
            "gearman", ["-p", "\(port)", "-f", "reverse"], stdin: Data("Hello World!".utf8))
        #expect(String(decoding: result.stdout, as: UTF8.self) == "!dlroW olleH")
        server.signal(SIGTERM)
        #expect(try await server.wait(timeout: .seconds(15)) == 0)
        #expect(server.standardErrorText.contains("listening"))
        #expect(server.standardErrorText.contains("stopped"))
    }

    /// `--log-level` and `--log-file` are the logging flags of every command; `--verbose` stays as gearmand's
    /// spelling on `server`, and giving both is refused. Values travel as prefixed metadata.
    @Test func logLevelIsTheOneLoggingFlagAndVerboseItsGearmandSpelling() async throws {
        let (server, _) = try await startJobServer(try gearboxBinary()) {
            ["server", "--port", "\($0)", "--log-level", "info"]
        }
        server.signal(SIGTERM)
        #expect(try await server.wait(timeout: .seconds(15)) == 0)
        let log = server.standardErrorText
        #expect(
            log.contains("listening") && log.contains("gearman.address=") && log.contains("gearman.threads="), "\(log)")
        let both = try await ChildProcess.run(
            try gearboxBinary(), ["server", "--port", "0", "--log-level", "info", "--verbose", "INFO"])
        #expect(both.status == 64)
        #expect(both.stderr.contains("--verbose is gearmand's spelling of --log-level"), "\(both.stderr)")
    }

    @Test func versionNamesGearboxTheProtocolAndLibvips() async throws {
        let result = try await ChildProcess.run(try gearboxBinary(), ["--version"])
        let text = String(decoding: result.stdout, as: UTF8.self)
        #expect(result.status == 0)
        #expect(
            text.hasPrefix("gearbox 0.") && text.contains("Gearman 1.1.20+gearbox.") && text.contains("libvips 8."),
            "\(text)")
    }

    @Test func shutdownCommandFromLoopbackStopsTheServer() async throws {
        let (server, port) = try await startJobServer(try gearboxBinary()) { ["server", "--port", "\($0)"] }
        let admin = try await RawConnection(port: port)
        try await admin.send(line: "shutdown")
        #expect(try await admin.receiveAdminReply() == "OK\r\n")
        #expect(try await server.wait(timeout: .seconds(15)) == 0)
    }

    @Test func aLogFileIsAppendedTo() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gearbox-log-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("an earlier line\n".utf8).write(to: URL(fileURLWithPath: path))
        let (server, _) = try await startJobServer(try gearboxBinary()) {
            ["server", "--port", "\($0)", "--verbose", "INFO", "--log-file", path]
        }
        server.signal(SIGTERM)
        #expect(try await server.wait(timeout: .seconds(15)) == 0)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "an earlier line")
        #expect(lines.contains { $0.contains("listening") } && lines.last?.contains("stopped") == true)
    }

    @Test func badFlagsAreExplained() async throws {
        let result = try await ChildProcess.run(try gearboxBinary(), ["server", "--port", "99999"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--port must be between 0 and 65535"))
    }
}
