import Foundation
import Gearman
import GearmanBench
import GearmanProtocol
import NIOConcurrencyHelpers
import NIOCore
import TestSupport
import Testing

/// Real processes killed with SIGKILL while work flows: `gearbox worker` processes during a long run of
/// foreground jobs, and a `gearbox server` under waiting callers. Nothing acknowledged is lost, nothing
/// hangs, and everything finds its way back.
@Suite(.serialized) struct FaultInjectionTests {
    /// FAULT_JOBS overrides the count; FAULT_SECONDS runs for that long instead (`make soak`).
    static let jobCount = ProcessInfo.processInfo.environment["FAULT_JOBS"].flatMap(Int.init) ?? 50_000
    static let duration = ProcessInfo.processInfo.environment["FAULT_SECONDS"].flatMap(Int.init).map(Duration.seconds)

    func startWorker(_ server: TestServer) throws -> ChildProcess {
        try ChildProcess(
            try gearboxBinary(), ["worker", "-f", "reverse", "--server", server.address.description, "-c", "8"])
    }

    @Test func workersKilledEveryFewHundredMillisecondsLoseNoJob() async throws {
        let server = try await TestServer.start(.gearbox)
        let workers = WorkerPool(try (0..<3).map { _ in try startWorker(server) })
        try await server.waitForStatus("reverse") { $0[2] >= 1 }
        let client = GearmanClient(servers: [server.address])
        let count = Self.duration == nil ? Self.jobCount : .max
        let started = ContinuousClock.now
        let stopAt = Self.duration.map { started + $0 }
        let killer = Task {
            var random = SystemRandomNumberGenerator()
            var reported = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int.random(in: 200...400, using: &random)))
                guard !Task.isCancelled else { return }
                workers.replaceOne(using: &random) { try startWorker(server) }
                if ContinuousClock.now - reported >= .seconds(30) {
                    reported = ContinuousClock.now
                    print(
                        "fault injection: after \((reported - started).components.seconds) s, server resident memory \((ProcessSample.residentBytes(pid: server.process.pid) ?? 0) / 1024) KiB, \(workers.kills) workers killed"
                    )
                }
            }
        }
        defer { killer.cancel() }
        let (correct, wrong, failed) = try await withDeadline(.seconds(600) + (Self.duration ?? .zero)) {
            try await withThrowingTaskGroup(of: Bool?.self) { group in
                var correct = 0
                var wrong = 0
                var failed = 0
                var next = 0
                func add() {
                    let index = next
                    next += 1
                    group.addTask {
                        let text = "job-\(index)"
                        do {
                            let result = try await client.submit(
                                "reverse", workload: Array(text.utf8), timeout: .seconds(120))
                            return String(buffer: result) == String(text.reversed())
                        } catch {
                            return nil
                        }
                    }
                }
                while next < min(count, 256) { add() }
                for try await outcome in group {
                    switch outcome {
                    case true?: correct += 1
                    case false?: wrong += 1
                    case nil: failed += 1
                    }
                    if next < count, stopAt.map({ ContinuousClock.now < $0 }) ?? true { add() }
                }
                return (correct, wrong, failed)
            }
        }
        killer.cancel()
        _ = await killer.result
        let seconds = (ContinuousClock.now - started).components.seconds
        let submitted = correct + wrong + failed
        print(
            "fault injection: \(submitted) foreground jobs, \(workers.kills) gearbox worker processes killed with SIGKILL, "
                + "\(correct) correct results, \(wrong) wrong, \(failed) lost or failed, in \(seconds) s")
        #expect(correct == submitted && wrong == 0 && failed == 0)
        #expect(submitted == count || Self.duration != nil)
        #expect(workers.kills >= 5, "the run was too short to kill workers during it")
        workers.stopAll()
        await client.shutdown()
    }

    @Test func backgroundJobsAcknowledgedBeforeTheServerIsKilledAllRunAfterItsRestart() async throws {
        let scratch = try ScratchFolder()
        let store = scratch.store
        let server = try await TestServer.start(.gearbox, store: store)
        let seen = NIOLockedValueBox<[String: Int]>([:])
        let worker = GearmanWorker(servers: [server.address], concurrency: 8)
        worker.register("record") { job in
            try await Task.sleep(for: .milliseconds(1))
            seen.withLockedValue { $0[String(buffer: job.workload), default: 0] += 1 }
            return ByteBuffer()
        }
        let running = Task { try await worker.run() }
        defer { running.cancel() }
        try await server.waitForStatus("record") { $0[2] == 1 }
        let client = GearmanClient(servers: [server.address])
        let total = 6_000
        let killAfter = 2_500
        let acknowledged = NIOLockedValueBox<Set<String>>([])
        try await withDeadline(.seconds(300)) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                var next = 0
                func add() {
                    let text = "background-\(next)"
                    next += 1
                    group.addTask {
                        guard
                            (try? await client.submitBackground(
                                "record", workload: Array(text.utf8), timeout: .seconds(30))) != nil
                        else { return }
                        let count = acknowledged.withLockedValue { set in
                            set.insert(text)
                            return set.count
                        }
                        if count == killAfter { server.process.signal(SIGKILL) }
                    }
                }
                while next < 256 { add() }
                for try await _ in group where next < total { add() }
            }
            let promised = acknowledged.withLockedValue { $0 }
            #expect(promised.count >= killAfter)
            let restarted = try await TestServer.start(.gearbox, port: server.port, store: store)
            defer { restarted.process.stop() }
            while !promised.allSatisfy({ text in seen.withLockedValue { $0[text] != nil } }) {
                try await Task.sleep(for: .milliseconds(100))
            }
            let ranTwice = seen.withLockedValue { $0.values.count { $0 > 1 } }
            print(
                "fault injection: \(promised.count) background jobs acknowledged, server killed after \(killAfter); "
                    + "all ran after the restart, \(ranTwice) of them twice (finished before their delete was committed)"
            )
        }
        await client.shutdown()
    }

    @Test func aKilledServerFailsItsCallersAtOnceAndTheOtherServerCarriesOn() async throws {
        let first = try await TestServer.start(.gearbox)
        let second = try await TestServer.start(.gearbox)
        let worker = GearmanWorker(servers: [first.address, second.address], concurrency: 4)
        worker.register("hold") { job in
            try await Task.sleep(for: .seconds(30))
            return job.workload
        }
        worker.register("echo") { job in job.workload }
        let running = Task { try await worker.run() }
        defer { running.cancel() }
        try await first.waitForStatus("hold") { $0[2] == 1 }
        try await second.waitForStatus("hold") { $0[2] == 1 }
        let onFirst = GearmanClient(servers: [first.address])
        let both = GearmanClient(servers: [first.address, second.address])
        try await withDeadline(.seconds(120)) {
            let waiting = (0..<3).map { index in
                Task { () -> (any Error)? in
                    do {
                        _ = try await onFirst.submit("hold", workload: Array("\(index)".utf8))
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            try await first.waitForStatus("hold") { $0[1] == 3 }
            let killed = ContinuousClock.now
            first.process.signal(SIGKILL)
            for task in waiting {
                let error = await task.value
                #expect(error as? GearmanError == .connectionLost(server: first.address))
            }
            // From the closed connection, not from keepalive probes, which start only after this much silence.
            let failedWithin = ContinuousClock.now - killed
            #expect(
                failedWithin < DeadPeerDetection.default.idle, "callers learnt of the dead server after \(failedWithin)"
            )

            for index in 0..<20 {
                let result = try await both.submit("echo", workload: Array("\(index)".utf8), timeout: .seconds(10))
                #expect(String(buffer: result) == "\(index)")
            }

            // The worker's jobs from the dead server are cancelled, not waited for: it is back within its
            // reconnection backoff (at most 10 s), not after the 30 s those jobs would have run.
            let restarted = try await TestServer.start(.gearbox, port: first.port)
            let restartedAt = ContinuousClock.now
            try await restarted.waitForStatus("hold", limit: .seconds(20)) { $0[2] == 1 }
            print(
                "fault injection: the worker was back on the restarted server after \(ContinuousClock.now - restartedAt)"
            )
            let again = try await onFirst.submit("echo", workload: Array("back".utf8), timeout: .seconds(10))
            #expect(String(buffer: again) == "back")
        }
        await onFirst.shutdown()
        await both.shutdown()
    }
}

/// The worker processes of a fault-injection run: one is killed and replaced at a time.
final class WorkerPool: Sendable {
    private let state: NIOLockedValueBox<(workers: [ChildProcess], kills: Int)>

    init(_ workers: [ChildProcess]) {
        state = NIOLockedValueBox((workers, 0))
    }

    var kills: Int { state.withLockedValue { $0.kills } }

    func replaceOne(using random: inout SystemRandomNumberGenerator, _ start: () throws -> ChildProcess) {
        let index = Int.random(in: 0..<3, using: &random)
        let victim = state.withLockedValue { $0.workers[index] }
        victim.signal(SIGKILL)
        victim.stop()
        guard let replacement = try? start() else { return }
        state.withLockedValue {
            $0.workers[index] = replacement
            $0.kills += 1
        }
    }

    func stopAll() {
        for worker in state.withLockedValue({ $0.workers }) {
            worker.stop()
        }
    }
}
