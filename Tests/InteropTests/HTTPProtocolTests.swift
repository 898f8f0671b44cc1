import Foundation
import Gearman
import NIOCore
import TestSupport
import Testing

/// gearmand's HTTP protocol (`-r http --http-port P`), the same requests sent with curl to gearmand and to
/// `gearbox server --http-port`, then what Gearbox adds: keep-alive, WORK_DATA streamed as a chunked body,
/// failures as error statuses with the reason, a body-size limit.
@Suite(.serialized) struct HTTPProtocolTests {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    /// One request through curl, headers and body parsed from `curl -i`.
    static func curl(_ arguments: [String]) async throws -> Response {
        let result = try await ChildProcess.run(
            "curl", ["-s", "-i", "--max-time", "20"] + arguments, timeout: .seconds(30))
        let text = String(decoding: result.stdout, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else {
            throw TestFailure("no HTTP response from curl \(arguments): \(text) \(result.stderr)")
        }
        let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1] }
        }
        return Response(status: status, headers: headers, body: String(text[split.upperBound...]))
    }

    /// gearmand with -r http and `gearbox server --http-port`, each with `gearbox worker` serving the
    /// built-in functions; returns their HTTP ports and Gearman ports.
    private func withBothServers(_ body: ([(name: String, http: Int, gearman: Int)]) async throws -> Void) async throws
    {
        let gearmandHTTP = try freePort()
        let gearmand = try await Gearmand(threads: 2, extraArguments: ["-r", "http", "--http-port", "\(gearmandHTTP)"])
        defer { gearmand.stop() }
        let gearboxHTTP = try freePort()
        let (gearbox, gearboxPort) = try await startJobServer(try gearboxBinary()) {
            ["server", "--port", "\($0)", "--http-port", "\(gearboxHTTP)", "--http-max-body", "100000"]
        }
        defer { gearbox.stop() }
        try await waitUntilListening(port: gearmandHTTP)
        try await waitUntilListening(port: gearboxHTTP)
        let worker = try ChildProcess(
            try gearboxBinary(),
            [
                "worker", "-f", "reverse,fail,exception", "-c", "4", "--server", "127.0.0.1:\(gearmand.port)",
                "--server", "127.0.0.1:\(gearboxPort)",
            ])
        defer { worker.stop() }
        try await waitForWorkers(port: gearmand.port, function: "exception", count: 1, timeout: .seconds(20))
        try await waitForWorkers(port: gearboxPort, function: "exception", count: 1, timeout: .seconds(20))
        try await body([("gearmand", gearmandHTTP, gearmand.port), ("gearbox", gearboxHTTP, gearboxPort)])
    }

    @Test func theSameRequestsGetTheSameAnswersFromGearmandAndGearbox() async throws {
        try await withBothServers { servers in
            for server in servers {
                let done = try await Self.curl(["-d", "Hello HTTP", "http://127.0.0.1:\(server.http)/reverse"])
                #expect(done.status == 200, "\(server.name)")
                #expect(done.body == "PTTH olleH", "\(server.name)")
                #expect(done.headers["x-gearman-command"] == "WORK_COMPLETE", "\(server.name)")
                #expect(done.headers["x-gearman-job-handle"]?.hasPrefix("H:") == true, "\(server.name)")

                let queued = try await Self.curl(
                    [
                        "-H", "X-Gearman-Background: true", "-H", "X-Gearman-Priority: high", "-d", "line",
                        "http://127.0.0.1:\(server.http)/logger",
                    ])
                #expect(queued.status == 200 && queued.body.isEmpty, "\(server.name)")
                #expect(queued.headers["x-gearman-command"] == "JOB_CREATED", "\(server.name)")
                let admin = try await RawConnection(port: server.gearman)
                try await admin.send(line: "prioritystatus")
                #expect(try await admin.receiveAdminReply().contains("logger\t1\t0\t0\t0"), "\(server.name)")
            }
        }
    }

    @Test func gearboxKeepsConnectionsAliveAndSaysWhyJobsFailed() async throws {
        try await withBothServers { servers in
            let http = servers[1].http
            // Two requests, one connection (curl reuses it only if the server kept it open).
            let twice = try await ChildProcess.run(
                "curl",
                [
                    "-s", "-v", "--max-time", "20", "-d", "abc", "http://127.0.0.1:\(http)/reverse",
                    "http://127.0.0.1:\(http)/reverse",
                ], timeout: .seconds(30))
            #expect(String(decoding: twice.stdout, as: UTF8.self) == "cbacba")
            #expect(twice.stderr.contains("Re-using existing connection"), "\(twice.stderr)")

            let failed = try await Self.curl(["-d", "x", "http://127.0.0.1:\(http)/fail"])
            #expect(failed.status == 500 && failed.headers["x-gearman-command"] == "WORK_FAIL")
            // gearmand says 200 OK whatever happened (and cuts the handle's last byte off).
            let gearmandFailed = try await Self.curl(["-d", "x", "http://127.0.0.1:\(servers[0].http)/fail"])
            #expect(gearmandFailed.status == 200 && gearmandFailed.headers["x-gearman-command"] == "WORK_FAIL")
            let exception = try await Self.curl(["-d", "disk full", "http://127.0.0.1:\(http)/exception"])
            #expect(exception.status == 500 && exception.headers["x-gearman-command"] == "WORK_EXCEPTION")
            #expect(exception.body.contains("disk full"))

            let file = NSTemporaryDirectory() + "gearbox-http-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: file) }
            try Data(repeating: 0x78, count: 200_000).write(to: URL(fileURLWithPath: file))
            let large = try await Self.curl(["--data-binary", "@" + file, "http://127.0.0.1:\(http)/reverse"])
            #expect(large.status == 413)
            let unnamed = try await Self.curl(["-d", "x", "http://127.0.0.1:\(http)/"])
            #expect(unnamed.status == 404)

            let admin = try await RawConnection(port: servers[1].gearman)
            try await admin.send(line: "maxqueue full 1")
            _ = try await admin.receiveAdminReply()
            _ = try await Self.curl(["-H", "X-Gearman-Background: true", "-d", "1", "http://127.0.0.1:\(http)/full"])
            let refused = try await Self.curl([
                "-H", "X-Gearman-Background: true", "-d", "2", "http://127.0.0.1:\(http)/full",
            ])
            #expect(refused.status == 503 && refused.body.contains("QUEUE_ERROR"), "\(refused)")
        }
    }

    @Test func workDataIsStreamedAsAChunkedBody() async throws {
        let httpPort = try freePort()
        let (server, port) = try await startJobServer(try gearboxBinary()) {
            ["server", "--port", "\($0)", "--http-port", "\(httpPort)"]
        }
        defer { server.stop() }
        try await waitUntilListening(port: httpPort)
        let worker = GearmanWorker(servers: [GearmanServerAddress(host: "127.0.0.1", port: port)])
        worker.register("count") { job in
            for index in 1...3 {
                try await job.sendData(ByteBuffer(string: "part \(index)\n"))
                try await Task.sleep(for: .milliseconds(50))
            }
            return ByteBuffer(string: "done\n")
        }
        let running = Task { try await worker.run() }
        defer { running.cancel() }
        try await waitForWorkers(port: port, function: "count", count: 1, timeout: .seconds(20))
        let streamed = try await Self.curl(["-d", "", "http://127.0.0.1:\(httpPort)/count"])
        #expect(streamed.status == 200)
        #expect(streamed.headers["transfer-encoding"] == "chunked")
        #expect(streamed.headers["x-gearman-command"] == "WORK_DATA")
        #expect(streamed.body == "part 1\npart 2\npart 3\ndone\n")
        worker.shutdown()
    }
}
