import Foundation
import Gearman
import NIOConcurrencyHelpers
import NIOCore
import TestSupport
import Testing

/// `gearbox server` with retries and dead letters as a process, driven by libgearman's `gearman` client and a
/// Gearbox worker: a background job that always fails is retried, kept as a dead letter with its last error,
/// kept across SIGKILL with a SQLite store and across a takeover in a PostgreSQL group, and `retry dead`
/// brings it back to run again.
@Suite(.serialized) struct RetryInteropTests {
    struct WorkerFailure: Error, CustomStringConvertible {
        var description: String { "the disk is full" }
    }

    /// A worker of `flaky` that fails every job until told to succeed; counts its attempts and successes.
    final class FlakyWorker: Sendable {
        private let state = NIOLockedValueBox<(succeeds: Bool, attempts: Int, done: [String])>((false, 0, []))
        private let worker: GearmanWorker
        private let task: Task<Void, any Error>

        init(ports: [Int]) {
            let worker = GearmanWorker(servers: ports.map { GearmanServerAddress(host: "127.0.0.1", port: $0) })
            self.worker = worker
            let state = self.state
            worker.register("flaky") { job in
                let succeeds = state.withLockedValue { state in
                    state.attempts += 1
                    if state.succeeds { state.done.append(String(buffer: job.workload)) }
                    return state.succeeds
                }
                guard succeeds else { throw WorkerFailure() }
                return ByteBuffer(string: "ok")
            }
            task = Task { try await worker.run() }
        }

        func succeedFromNowOn() { state.withLockedValue { $0.succeeds = true } }
        var attempts: Int { state.withLockedValue { $0.attempts } }
        var done: [String] { state.withLockedValue { $0.done } }

        func stop() async {
            worker.shutdown()
            _ = try? await task.value
        }
    }

    static func submitWithGearmanTool(port: Int, unique: String, workload: String) async throws {
        let result = try await ChildProcess.run(
            "gearman", ["-p", "\(port)", "-b", "-f", "flaky", "-u", unique, "--", workload])
        guard result.status == 0 else { throw TestFailure("gearman -b failed: \(result.stderr)") }
    }

    /// Waits until the admin `dead` list holds a line that contains `text`; returns the list.
    static func waitForDeadLetter(_ text: String, port: Int, within limit: Duration = .seconds(30)) async throws
        -> String
    {
        let listed = try await adminReply(port: port, "dead", timeout: limit) { $0.contains(text) }
        guard listed.contains(text) else { throw TestFailure("no dead letter with \(text) within \(limit): \(listed)") }
        return listed
    }

    @Test func aJobThatFailsTwiceCompletesOnItsThirdAttemptEachAfterItsBackoff() async throws {
        let (server, port) = try await startJobServer(try gearboxBinary()) {
            ["server", "--port", "\($0)", "--retries", "flaky=3", "--retry-backoff", "1s..1m"]
        }
        defer { server.stop() }
        let attempts = NIOLockedValueBox<[ContinuousClock.Instant]>([])
        let worker = GearmanWorker(servers: [GearmanServerAddress(host: "127.0.0.1", port: port)])
        worker.register("flaky") { _ in
            let attempt = attempts.withLockedValue { attempts in
                attempts.append(.now)
                return attempts.count
            }
            guard attempt >= 3 else { throw WorkerFailure() }
            return ByteBuffer(string: "done")
        }
        let working = Task { try await worker.run() }
        try await Self.submitWithGearmanTool(port: port, unique: "twice", workload: "w")
        let completed = try await SharedStoreTests.poll(until: .now + .seconds(30)) {
            try await SharedStoreTests.admin("status", port: port).contains("flaky\t0\t0\t1")
                && attempts.withLockedValue { $0.count } == 3
        }
        #expect(completed, "the job completed on its third attempt")
        let times = attempts.withLockedValue { $0 }
        #expect(times.count == 3)
        if times.count == 3 {
            // The first retry waits at least 1 s, the second at least 2 s (twice the first, plus jitter).
            #expect(times[1] - times[0] >= .seconds(1), "\(times[1] - times[0])")
            #expect(times[2] - times[1] >= .seconds(2), "\(times[2] - times[1])")
        }
        #expect(try await SharedStoreTests.admin("dead", port: port) == ".\n")
        worker.shutdown()
        _ = try? await working.value
    }

    @Test func aJobThatAlwaysFailsIsKeptAsADeadLetterAcrossSIGKILLAndRetryDeadRunsItAgain() async throws {
        let folder = try ScratchFolder()
        let arguments = ["--store", "sqlite:\(folder.store)", "--retries", "flaky=2", "--retry-backoff", "1s..1s"]
        var (server, port) = try await startJobServer(try gearboxBinary()) {
            ["server", "--port", "\($0)"] + arguments
        }
        var worker = FlakyWorker(ports: [port])
        try await Self.submitWithGearmanTool(port: port, unique: "order-17", workload: "send receipt 17")
        let listed = try await Self.waitForDeadLetter("\tflaky\t3\torder-17\t", port: port)
        #expect(worker.attempts == 3, "the first attempt and two retries")
        #expect(listed.contains("the disk is full"), "the last error is kept: \(listed)")
        let handle = try #require(listed.split(separator: "\t").first.map(String.init))

        await worker.stop()
        server.signal(SIGKILL)
        _ = try await server.wait(timeout: .seconds(10))
        (server, port) = try await startJobServer(try gearboxBinary()) { ["server", "--port", "\($0)"] + arguments }
        defer { server.stop() }
        let after = try await SharedStoreTests.admin("dead", port: port)
        #expect(after.hasPrefix("\(handle)\tflaky\t3\torder-17\t"), "the dead letter survived SIGKILL: \(after)")

        worker = FlakyWorker(ports: [port])
        worker.succeedFromNowOn()
        #expect(try await SharedStoreTests.admin("retry dead flaky", port: port) == "OK 1\n")
        let ran = try await SharedStoreTests.poll(until: .now + .seconds(30)) { worker.done == ["send receipt 17"] }
        #expect(ran, "the retried job ran")
        let emptied = try await SharedStoreTests.poll(until: .now + .seconds(10)) {
            try await SharedStoreTests.admin("dead", port: port) == ".\n"
        }
        #expect(emptied)
        await worker.stop()
    }

    @Test func aDeadLetterOfAServerKilledInAPostgreSQLGroupIsAdoptedWithItsErrorAndRetried() async throws {
        let cluster = try await PostgresCluster()
        try await cluster.createDatabase("dead_letters")
        func start(_ name: String) async throws -> (process: ChildProcess, port: Int) {
            try await startJobServer(try gearboxBinary()) {
                [
                    "server", "--port", "\($0)", "--store", cluster.url(database: "dead_letters"), "--server-name",
                    name, "--retries", "flaky=1", "--retry-backoff", "1s..1s",
                ] + SharedStoreTests.lease
            }
        }
        let (first, firstPort) = try await start("first")
        let (second, secondPort) = try await start("second")
        defer { second.stop() }
        let worker = FlakyWorker(ports: [firstPort])
        try await Self.submitWithGearmanTool(port: firstPort, unique: "invoice-9", workload: "render invoice 9")
        _ = try await Self.waitForDeadLetter("\tflaky\t2\tinvoice-9\tthe disk is full", port: firstPort)
        await worker.stop()

        first.signal(SIGKILL)
        _ = try await first.wait(timeout: .seconds(10))
        let adopted = try await Self.waitForDeadLetter(
            "\tflaky\t2\tinvoice-9\tthe disk is full", port: secondPort,
            within: .seconds(SharedStoreTests.leaseExpirySeconds + 15))
        #expect(adopted.split(separator: "\n").count == 2, "one dead letter and the end: \(adopted)")

        let survivor = FlakyWorker(ports: [secondPort])
        survivor.succeedFromNowOn()
        #expect(try await SharedStoreTests.admin("retry dead flaky", port: secondPort) == "OK 1\n")
        let ran = try await SharedStoreTests.poll(until: .now + .seconds(30)) { survivor.done == ["render invoice 9"] }
        #expect(ran, "the adopted dead letter ran once retried")
        let emptied = try await SharedStoreTests.poll(until: .now + .seconds(10)) {
            try await cluster.query("SELECT count(*) FROM gearbox_jobs", database: "dead_letters") == "0"
        }
        #expect(emptied, "the retried job's row is gone once it completed")
        await survivor.stop()
    }
}
