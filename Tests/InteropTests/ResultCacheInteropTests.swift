import Foundation
import TestSupport
import Testing

/// `gearbox server --result-cache`, as PHP's gearman extension, libgearman's `gearman` tool and `gearbox admin`
/// see it over TCP.
@Suite(.serialized) struct ResultCacheInteropTests {
    @Test func phpAndTheGearmanToolGetAKeptResultWithNoWorkerConnected() async throws {
        let metricsPort = try freePort()
        let (server, port) = try await startJobServer(try gearboxBinary()) {
            [
                "server", "--port", "\($0)", "--result-cache", "reverse=10m", "--result-cache-size", "1M",
                "--metrics-port", "\(metricsPort)",
            ]
        }
        defer { server.stop() }
        let folder = try ScratchFolder()
        let script = folder.path + "/client.php"
        try """
        <?php
        $client = new GearmanClient();
        $client->addServer('127.0.0.1', \(port));
        $client->setTimeout(10000);
        $result = $client->doNormal('reverse', $argv[1], $argv[2]);
        if ($client->returnCode() != GEARMAN_SUCCESS) {
            fwrite(STDERR, 'failed: ' . $client->error() . "\\n");
            exit(1);
        }
        echo $result;
        """.write(toFile: script, atomically: true, encoding: .utf8)
        func php(_ workload: String, unique: String) async throws -> String {
            let result = try await ChildProcess.run("php", [script, workload, unique], timeout: .seconds(30))
            #expect(result.status == 0, "\(result.stderr)")
            return String(decoding: result.stdout, as: UTF8.self)
        }

        // The worker runs one job and exits: every later answer comes from the cache, or never.
        let worker = try ChildProcess("gearman", ["-p", "\(port)", "-w", "-f", "reverse", "-c", "1", "--", "rev"])
        defer { worker.stop() }
        try await waitForWorkers(port: port, function: "reverse", count: 1)
        #expect(try await php("Hello cache", unique: "greeting") == "ehcac olleH")
        #expect(try await worker.wait(timeout: .seconds(20)) == 0)
        let noWorker = "reverse\t0\t0\t0\n.\n"
        #expect(try await adminReply(port: port, "status") { $0 == noWorker } == noWorker)

        #expect(try await php("Hello cache", unique: "greeting") == "ehcac olleH")
        let cli = try await ChildProcess.run(
            "gearman", ["-p", "\(port)", "-u", "greeting", "-f", "reverse"], stdin: Data("Hello cache".utf8),
            timeout: .seconds(20))
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(String(decoding: cli.stdout, as: UTF8.self) == "ehcac olleH")

        // One result of 8 + 11 bytes, two hits, the first submission's miss, kept for 600 seconds.
        let admin = try await RawConnection(port: port)
        try await admin.send(line: "cache")
        #expect(try await admin.receiveAdminReply() == "reverse\t1\t19\t2\t1\t0\t600\n.\n")
        let table = try await ChildProcess.run(
            try gearboxBinary(), ["admin", "--server", "127.0.0.1:\(port)", "cache"])
        let lines = String(decoding: table.stdout, as: UTF8.self).split(separator: "\n").map {
            $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        }
        #expect(
            lines == ["FUNCTION ENTRIES BYTES HITS MISSES EVICTIONS TTL_SECONDS", "reverse 1 19 2 1 0 600"], "\(lines)")

        let metrics = try await MetricsTests.scrape(metricsPort)
        #expect(MetricsTests.value(metrics, #"gearbox_result_cache_hits_total{function="reverse"}"#) == 2)
        #expect(MetricsTests.value(metrics, #"gearbox_result_cache_misses_total{function="reverse"}"#) == 1)
        #expect(MetricsTests.value(metrics, #"gearbox_result_cache_evictions_total{function="reverse"}"#) == 0)
        #expect(MetricsTests.value(metrics, #"gearbox_result_cache_entries{function="reverse"}"#) == 1)
        #expect(MetricsTests.value(metrics, #"gearbox_result_cache_bytes{function="reverse"}"#) == 19)
        #expect(MetricsTests.value(metrics, #"gearbox_jobs_completed_total{function="reverse"}"#) == 1)
        #expect(MetricsTests.value(metrics, #"gearbox_jobs_submitted_total{function="reverse"}"#) == 3)
    }

    @Test func badResultCacheFlagsAreExplained() async throws {
        let cases = [
            (["--result-cache", "resize=10x"], "--result-cache resize=10x: the time to live must be"),
            (["--result-cache", "=10m"], "--result-cache =10m: a function name is needed"),
            (["--result-cache", "resize", "--result-cache-size", "lots"], "--result-cache-size lots is not a size"),
            (["--result-cache-size", "1G"], "--result-cache-size needs --result-cache or --keep-results"),
        ]
        for (flags, message) in cases {
            let result = try await ChildProcess.run(try gearboxBinary(), ["server", "--port", "0"] + flags)
            #expect(result.status == 64, "\(flags)")
            #expect(result.stderr.contains(message), "\(flags): \(result.stderr)")
        }
    }
}
