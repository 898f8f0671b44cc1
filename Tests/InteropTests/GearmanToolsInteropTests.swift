import Foundation
import GearmanProtocol
import NIOCore
import TestSupport
import Testing

/// libgearman's own `gearman` and `gearadmin` tools against Gearbox's server.
@Suite(.serialized) struct GearmanToolsInteropTests {
    @Test func gearmanCLIWorkerAndClientReverseAString() async throws {
        try await withGearboxServer { server in
            let worker = try ChildProcess("gearman", ["-p", "\(server.port)", "-w", "-f", "reverse", "--", "rev"])
            defer { worker.stop() }
            try await waitForWorkers(port: server.port, function: "reverse", count: 1)
            let result = try await ChildProcess.run(
                "gearman", ["-p", "\(server.port)", "-f", "reverse"], stdin: Data("Hello World!".utf8))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(String(decoding: result.stdout, as: UTF8.self) == "!dlroW olleH")
        }
    }

    @Test func gearmanCLIRunsBackgroundAndPriorityJobs() async throws {
        try await withGearboxServer { server in
            for flags in [["-b"], ["-b", "-I"], ["-b", "-L"]] {
                let result = try await ChildProcess.run(
                    "gearman", ["-p", "\(server.port)", "-f", "queued"] + flags + ["-s"])
                #expect(result.status == 0, "\(flags): \(result.stderr)")
            }
            let admin = try await RawConnection(port: server.port)
            try await admin.send(line: "prioritystatus")
            #expect(try await admin.receiveAdminReply() == "queued\t1\t1\t1\t0\n.\n")
            let worker = try ChildProcess(
                "gearman", ["-p", "\(server.port)", "-w", "-f", "queued", "-c", "3", "--", "cat"])
            #expect(try await worker.wait() == 0)
            // The worker's last WORK_COMPLETE and its goodbye reach the server on a connection of their own:
            // a `status` sent once the process has exited can be read first. What stays once it comes is
            // nothing queued, nothing running and no worker.
            let drained = "queued\t0\t0\t0\n.\n"
            #expect(try await adminReply(port: server.port, "status") { $0 == drained } == drained)
        }
    }

    @Test func gearadminReadsStatusAndWorkers() async throws {
        try await withGearboxServer { server in
            let worker = try ChildProcess(
                "gearman", ["-p", "\(server.port)", "-w", "-f", "resize", "-f", "other", "--", "cat"])
            defer { worker.stop() }
            try await waitForWorkers(port: server.port, function: "resize", count: 1)
            let status = try await ChildProcess.run("gearadmin", ["-p", "\(server.port)", "--status"])
            #expect(status.status == 0)
            let lines = String(decoding: status.stdout, as: UTF8.self).split(separator: "\n").sorted()
            #expect(lines == [".", "other\t0\t0\t1", "resize\t0\t0\t1"])
            let workers = try await ChildProcess.run("gearadmin", ["-p", "\(server.port)", "--workers"])
            let text = String(decoding: workers.stdout, as: UTF8.self)
            #expect(
                text.contains("127.0.0.1 - : other resize") || text.contains("127.0.0.1 - : resize other"), "\(text)")
            #expect(text.hasSuffix(".\n"))
            let version = try await ChildProcess.run("gearadmin", ["-p", "\(server.port)", "--server-version"])
            #expect(String(decoding: version.stdout, as: UTF8.self).hasPrefix("1.1.20"))
        }
    }

    @Test func gearmanCLIExceptionReachesItsClientAsFailure() async throws {
        try await withGearboxServer { server in
            let worker = try ChildProcess("gearman", ["-p", "\(server.port)", "-w", "-f", "fails", "--", "false"])
            defer { worker.stop() }
            try await waitForWorkers(port: server.port, function: "fails", count: 1)
            let result = try await ChildProcess.run("gearman", ["-p", "\(server.port)", "-f", "fails", "-s"])
            #expect(result.status != 0 || !result.stderr.isEmpty)
        }
    }
}
