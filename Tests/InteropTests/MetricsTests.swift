import Foundation
import TestSupport
import Testing

/// `--metrics-port` on `gearbox server` and `gearbox worker`, read by the real Prometheus (Debian's
/// `prometheus`, scraping every second) and linted by its `promtool`.
@Suite(.serialized) struct MetricsTests {
    static func scrape(_ port: Int) async throws -> String {
        let result = try await ChildProcess.run("curl", ["-s", "--max-time", "10", "http://127.0.0.1:\(port)/metrics"])
        guard result.status == 0 else { throw TestFailure("no metrics on port \(port): \(result.stderr)") }
        return String(decoding: result.stdout, as: UTF8.self)
    }

    /// The value of one sample line, `name{labels} value`.
    static func value(_ text: String, _ sample: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
            return Double(line.dropFirst(sample.count + 1))
        }
        return nil
    }

    @Test func serverAndWorkerCountJobsAndPrometheusScrapesThem() async throws {
        let serverMetrics = try freePort()
        let workerMetrics = try freePort()
        let (server, port) = try await startJobServer(try gearboxBinary()) {
            ["server", "--port", "\($0)", "--metrics-port", "\(serverMetrics)"]
        }
        defer { server.stop() }
        let worker = try ChildProcess(
            try gearboxBinary(),
            [
                "worker", "-f", "reverse,fail,exception", "--server", "127.0.0.1:\(port)", "--metrics-port",
                "\(workerMetrics)",
            ])
        defer { worker.stop() }
        try await waitForWorkers(port: port, function: "exception", count: 1, timeout: .seconds(20))
        func submit(_ arguments: [String]) async throws {
            _ = try await ChildProcess.run(
                try gearboxBinary(), ["submit", "--server", "127.0.0.1:\(port)"] + arguments)
        }
        for index in 1...5 { try await submit(["-f", "reverse", "job \(index)"]) }
        try await submit(["-f", "fail", "x"])
        try await submit(["-f", "exception", "disk full"])
        try await submit(["-b", "-f", "logger", "a"])
        try await submit(["-b", "--priority", "high", "-f", "logger", "b"])

        let text = try await Self.scrape(serverMetrics)
        #expect(Self.value(text, #"gearbox_jobs_submitted_total{function="reverse"}"#) == 5)
        #expect(Self.value(text, #"gearbox_jobs_completed_total{function="reverse"}"#) == 5)
        #expect(Self.value(text, #"gearbox_jobs_failed_total{function="fail"}"#) == 1)
        #expect(Self.value(text, #"gearbox_jobs_exceptions_total{function="exception"}"#) == 1)
        #expect(Self.value(text, #"gearbox_jobs_queued{function="logger",priority="normal"}"#) == 1)
        #expect(Self.value(text, #"gearbox_jobs_queued{function="logger",priority="high"}"#) == 1)
        #expect(Self.value(text, #"gearbox_function_workers{function="reverse"}"#) == 1)
        #expect(Self.value(text, #"gearbox_connections{kind="worker"}"#) == 1)
        #expect(Self.value(text, #"gearbox_job_run_seconds_count{function="reverse"}"#) == 5)
        #expect(Self.value(text, #"gearbox_job_wait_seconds_count{function="reverse"}"#) == 5)
        let workerText = try await Self.scrape(workerMetrics)
        #expect(Self.value(workerText, #"gearbox_worker_jobs_total{function="reverse",outcome="complete"}"#) == 5)
        #expect(Self.value(workerText, #"gearbox_worker_jobs_total{function="exception",outcome="exception"}"#) == 1)

        // promtool's only complaint may be the missing HELP lines (swift-metrics has no help text).
        for exposition in [text, workerText] {
            let lint = try ChildProcess("promtool", ["check", "metrics"])
            try lint.write(Data(exposition.utf8))
            lint.closeInput()
            _ = try await lint.wait(timeout: .seconds(30))
            let problems = (lint.standardOutputText + lint.standardErrorText).split(separator: "\n")
                .filter { !$0.hasSuffix("no help text") }
            #expect(problems.isEmpty, "\(problems)")
        }

        // The real Prometheus scrapes both and answers a query with the server's count.
        let folder = try ScratchFolder()
        let prometheusPort = try freePort()
        try """
        global:
          scrape_interval: 1s
        scrape_configs:
          - job_name: gearbox
            static_configs:
              - targets: ["127.0.0.1:\(serverMetrics)", "127.0.0.1:\(workerMetrics)"]
        """.write(toFile: folder.path + "/prometheus.yml", atomically: true, encoding: .utf8)
        let prometheus = try ChildProcess(
            "prometheus",
            [
                "--config.file=\(folder.path)/prometheus.yml", "--storage.tsdb.path=\(folder.path)/data",
                "--web.listen-address=127.0.0.1:\(prometheusPort)",
            ])
        defer { prometheus.stop() }
        try await waitUntilListening(port: prometheusPort, while: prometheus, timeout: .seconds(30))
        let query =
            #"gearbox_jobs_completed_total{function="reverse"}"#
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        var answer = ""
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let result = try await ChildProcess.run(
                "curl", ["-s", "--max-time", "5", "http://127.0.0.1:\(prometheusPort)/api/v1/query?query=\(query)"])
            answer = String(decoding: result.stdout, as: UTF8.self)
            if answer.contains(#""5"]"#) { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(answer.contains(#""5"]"#), "Prometheus answered: \(answer)")
    }

    @Test func theDurableStoreReportsItsCommits() async throws {
        let folder = try ScratchFolder()
        let metricsPort = try freePort()
        let (server, port) = try await startJobServer(try gearboxBinary()) {
            ["server", "--port", "\($0)", "--store", "sqlite:\(folder.store)", "--metrics-port", "\(metricsPort)"]
        }
        defer { server.stop() }
        for index in 1...3 {
            let queued = try await ChildProcess.run(
                try gearboxBinary(), ["submit", "-b", "-f", "later", "--server", "127.0.0.1:\(port)", "job \(index)"])
            #expect(queued.status == 0)
        }
        let text = try await Self.scrape(metricsPort)
        let commits = Self.value(text, "gearbox_store_commit_seconds_count") ?? 0
        #expect(commits >= 1 && commits <= 3, "\(text)")
        #expect(Self.value(text, "gearbox_store_batch_jobs_sum") == 3)
        #expect(Self.value(text, "gearbox_store_failed_commits_total") == 0)
        #expect(Self.value(text, #"gearbox_jobs_queued{function="later",priority="normal"}"#) == 3)
    }

    @Test func aBadMetricsPortIsExplained() async throws {
        let result = try await ChildProcess.run(try gearboxBinary(), ["server", "--metrics-port", "70000"])
        #expect(result.status != 0 && result.stderr.contains("--metrics-port must be between 0 and 65535"))
    }
}
