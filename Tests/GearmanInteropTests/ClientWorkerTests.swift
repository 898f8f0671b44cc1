import Foundation
import Gearman
import GearmanProtocol
import NIOCore
import TestSupport
import Testing

/// The Swift client and worker against a job server process: gearmand 1.1.20 and Gearbox's own.
@Suite struct ClientWorkerTests {
    static let limit = Duration.seconds(90)

    struct Broke: Error, CustomStringConvertible {
        var description: String { "it broke" }
    }

    func makeWorker(_ servers: [GearmanServerAddress], concurrency: Int = 4) -> GearmanWorker {
        let worker = GearmanWorker(servers: servers, concurrency: concurrency, clientID: "test-worker")
        worker.register("reverse") { job in ByteBuffer(bytes: job.workload.readableBytesView.reversed()) }
        worker.register("echo") { job in job.workload }
        worker.register("boom") { _ in throw Broke() }
        worker.register("nope") { _ in throw GearmanWorkFailure() }
        worker.register("progress") { job in
            try await job.sendStatus(numerator: 1, denominator: 3)
            try await job.sendData(ByteBuffer(string: "a"))
            try await job.sendWarning("careful")
            try await job.sendStatus(numerator: 2, denominator: 3)
            try await job.sendData(ByteBuffer(string: "b"))
            return ByteBuffer(string: "done")
        }
        worker.register("sleep") { job in
            // Says it has begun, as `gearbox worker`'s built-in sleep does: a streaming caller waits for that.
            try await job.sendStatus(numerator: 0, denominator: 1)
            try await Task.sleep(for: .milliseconds(Int64((Double(String(buffer: job.workload)) ?? 0) * 1000)))
            return job.workload
        }
        return worker
    }

    @Test(arguments: ServerKind.allCases)
    func submitAndAwaitBinary(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let worker = start(makeWorker([server.address]))
        defer { worker.cancel() }
        let client = GearmanClient(servers: [server.address])
        try await withDeadline(Self.limit) {
            let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) } + [0, 0, 255]
            let result = try await client.submit("reverse", workload: bytes)
            #expect(Array(result.readableBytesView) == bytes.reversed())
            let empty = try await client.submit("echo", workload: ByteBuffer())
            #expect(empty.readableBytes == 0)
        }
        await client.shutdown()
    }

    @Test(arguments: ServerKind.allCases)
    func thousandConcurrentJobsOverOneClient(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let worker = start(makeWorker([server.address], concurrency: 16))
        defer { worker.cancel() }
        let client = GearmanClient(servers: [server.address])
        try await withDeadline(Self.limit) {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<1000 {
                    group.addTask {
                        let text = "job-\(index)"
                        let result = try await client.submit("reverse", workload: Array(text.utf8))
                        return String(buffer: result) == String(text.reversed())
                    }
                }
                var correct = 0
                for try await ok in group where ok { correct += 1 }
                #expect(correct == 1000)
            }
        }
        await client.shutdown()
    }

    @Test(arguments: ServerKind.allCases)
    func backgroundJobAndStatus(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let client = GearmanClient(servers: [server.address])
        try await withDeadline(Self.limit) {
            let handle = try await client.submitBackground("echo", workload: Array("bg".utf8), unique: "bg-1")
            #expect(handle.server == server.address)
            #expect(handle.handle.hasPrefix("H:"))
            let queued = try await client.status(of: handle)
            #expect(queued.isKnown && !queued.isRunning)
            let byUnique = try await client.status(unique: "bg-1")
            #expect(byUnique.isKnown)

            let worker = start(makeWorker([server.address]))
            defer { worker.cancel() }
            while try await client.status(of: handle).isKnown {
                try await Task.sleep(for: .milliseconds(50))
            }
            let unknown = try await client.status(of: GearmanJobHandle("H:nowhere:1", server: server.address))
            #expect(!unknown.isKnown)
        }
        await client.shutdown()
    }

    @Test(arguments: ServerKind.allCases)
    func prioritiesOrderQueuedJobs(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let client = GearmanClient(servers: [server.address])
        let order = Recorder()
        try await withDeadline(Self.limit) {
            for (name, priority) in [("low", GearmanPriority.low), ("normal", .normal), ("high", .high)] {
                _ = try await client.submitBackground("ordered", workload: Array(name.utf8), priority: priority)
            }
            let worker = GearmanWorker(servers: [server.address], concurrency: 1)
            worker.register("ordered") { job in
                await order.append(String(buffer: job.workload))
                return job.workload
            }
            let task = start(worker)
            defer { task.cancel() }
            while await order.values.count < 3 {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(await order.values == ["high", "normal", "low"])
        }
        await client.shutdown()
    }

    @Test(arguments: ServerKind.allCases)
    func streamsDataWarningsAndStatus(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let worker = start(makeWorker([server.address]))
        defer { worker.cancel() }
        let client = GearmanClient(servers: [server.address])
        try await withDeadline(Self.limit) {
            var events: [GearmanJobEvent] = []
            for try await event in try await client.stream("progress", workload: ByteBuffer(string: "x")) {
                events.append(event)
            }
            guard case .created(let handle)? = events.first else {
                Issue.record("no handle first: \(events)")
                return
            }
            #expect(handle.server == server.address)
            #expect(
                Array(events.dropFirst()) == [
                    .status(numerator: 1, denominator: 3), .data(ByteBuffer(string: "a")),
                    .warning(ByteBuffer(string: "careful")), .status(numerator: 2, denominator: 3),
                    .data(ByteBuffer(string: "b")), .complete(ByteBuffer(string: "done")),
                ])
        }
        await client.shutdown()
    }

    @Test(arguments: ServerKind.allCases)
    func exceptionsAndFailuresAreTypedErrors(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let worker = start(makeWorker([server.address]))
        defer { worker.cancel() }
        let client = GearmanClient(servers: [server.address])
        try await withDeadline(Self.limit) {
            do {
                _ = try await client.submit("boom", workload: ByteBuffer())
                Issue.record("boom must throw")
            } catch let error as GearmanError {
                #expect(error.code == .workException && error.message == "it broke")
            }
            do {
                _ = try await client.submit("nope", workload: ByteBuffer())
                Issue.record("nope must throw")
            } catch let error as GearmanError {
                #expect(error.code == .workFailed)
            }
            // The connection still works afterwards.
            #expect(String(buffer: try await client.submit("echo", workload: Array("ok".utf8))) == "ok")
        }
        await client.shutdown()
    }

    @Test(arguments: ServerKind.allCases)
    func cancellationAndTimeoutStopWaiting(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let client = GearmanClient(servers: [server.address])
        try await withDeadline(Self.limit) {
            let waiting = Task { try await client.submit("nobody-does-this", workload: ByteBuffer()) }
            try await server.waitForStatus("nobody-does-this") { $0[0] == 1 }
            waiting.cancel()
            await #expect(throws: CancellationError.self) { _ = try await waiting.value }

            await #expect(throws: GearmanError.timeout) {
                _ = try await client.submit("nobody-does-this", workload: ByteBuffer(), timeout: .milliseconds(200))
            }
            let worker = start(makeWorker([server.address]))
            defer { worker.cancel() }
            #expect(String(buffer: try await client.submit("echo", workload: Array("alive".utf8))) == "alive")
        }
        await client.shutdown()
    }

    @Test(arguments: ServerKind.allCases)
    func aKilledWorkersJobCompletesOnAnotherWorker(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let first = try ChildProcess(
            try gearboxBinary(), ["worker", "-f", "sleep", "--server", server.address.description])
        let client = GearmanClient(servers: [server.address])
        try await withDeadline(Self.limit) {
            var events = try await client.stream("sleep", workload: ByteBuffer(string: "3")).makeAsyncIterator()
            try await waitUntilStarted(&events)
            first.stop()
            let worker = start(makeWorker([server.address]))
            defer { worker.cancel() }
            #expect(try await result(&events).map(String.init(buffer:)) == "3")
        }
        await client.shutdown()
    }

    @Test(arguments: ServerKind.allCases)
    func aKilledServerFailsTheWaitingCaller(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let worker = start(makeWorker([server.address]))
        defer { worker.cancel() }
        let client = GearmanClient(servers: [server.address])
        try await withDeadline(Self.limit) {
            var events = try await client.stream("sleep", workload: ByteBuffer(string: "60")).makeAsyncIterator()
            try await waitUntilStarted(&events)
            server.process.stop()
            await #expect(throws: GearmanError.connectionLost(server: server.address)) { _ = try await result(&events) }
            // With its only server gone, the client says so at once.
            await #expect(throws: GearmanError.self) { _ = try await client.submit("echo", workload: ByteBuffer()) }
        }
        await client.shutdown()
    }

    @Test(arguments: ServerKind.allCases)
    func twoServersWithOneDown(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let down = GearmanServerAddress(host: "127.0.0.1", port: try freePort())
        let worker = start(makeWorker([down, server.address]))
        defer { worker.cancel() }
        let client = GearmanClient(servers: [down, server.address])
        try await withDeadline(Self.limit) {
            for index in 0..<20 {
                let unique = index.isMultiple(of: 2) ? "key-\(index)" : nil
                let result = try await client.submit("echo", workload: Array("\(index)".utf8), unique: unique)
                #expect(String(buffer: result) == "\(index)")
            }
        }
        await client.shutdown()
    }

    @Test(arguments: ServerKind.allCases)
    func theSameUniqueGoesToTheSameServer(kind: ServerKind) async throws {
        let one = try await TestServer.start(kind)
        let two = try await TestServer.start(kind)
        let client = GearmanClient(servers: [one.address, two.address])
        try await withDeadline(Self.limit) {
            var servers: Set<GearmanServerAddress> = []
            for key in ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"] {
                let first = try await client.submitBackground("nobody-does-this", workload: ByteBuffer(), unique: key)
                let again = try await client.submitBackground("nobody-does-this", workload: ByteBuffer(), unique: key)
                #expect(first == again)
                servers.insert(first.server)
                #expect(try await client.status(unique: key).isKnown)
            }
            #expect(servers.count == 2)
        }
        await client.shutdown()
    }

    @Test(arguments: ServerKind.allCases)
    func aJobPastItsCanDoTimeoutRunsAgain(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let attempts = Recorder()
        let gate = Gate()
        let slowpoke: GearmanWorker.Function = { job in
            await attempts.append(job.handle)
            if await attempts.values.count == 1 {
                await gate.waitForOpening()  // too long: the server gives the job out again
                return ByteBuffer(string: "late")
            }
            return ByteBuffer(string: "in time")
        }
        let first = GearmanWorker(servers: [server.address], concurrency: 2, clientID: "timeouts")
        first.register("slowpoke", timeout: .milliseconds(500), slowpoke)
        first.register("first-alive") { _ in ByteBuffer(string: "yes") }
        let runningFirst = start(first)
        defer { runningFirst.cancel() }
        let client = GearmanClient(servers: [server.address])
        try await withDeadline(Self.limit) {
            let job = Task { try await client.submit("slowpoke", workload: ByteBuffer()) }
            // Wait until the first attempt has started and the server took the job back (gearmand 1.1.20 then
            // wakes no sleeping worker) or already gave it out again. Before the first attempt the job is also
            // queued and not running: a second worker started then could take the first attempt and hold it.
            var requeued = false
            while !requeued {
                try await Task.sleep(for: .milliseconds(50))
                let started = await attempts.values.count
                guard started >= 1 else { continue }
                let status = try await server.admin("status")
                requeued = await attempts.values.count >= 2 || status.contains("slowpoke\t1\t0\t")
            }
            let second = GearmanWorker(servers: [server.address], concurrency: 1)
            second.register("slowpoke", slowpoke)
            let runningSecond = start(second)
            defer { runningSecond.cancel() }
            #expect(String(buffer: try await job.value) == "in time")
            #expect(await attempts.values.count == 2)
            // The first attempt's late WORK_COMPLETE gets ERROR JOB_NOT_FOUND; the worker carries on.
            await gate.open()
            try await Task.sleep(for: .milliseconds(200))
            #expect(String(buffer: try await client.submit("first-alive", workload: ByteBuffer())) == "yes")
        }
        await client.shutdown()
    }

    @Test(arguments: ServerKind.allCases)
    func concurrencyLimitsJobsFromAllServersTogether(kind: ServerKind) async throws {
        let one = try await TestServer.start(kind)
        let two = try await TestServer.start(kind)
        let gauge = Gauge()
        let worker = GearmanWorker(servers: [one.address, two.address], concurrency: 2)
        worker.register("tracked") { job in
            await gauge.enter()
            try await Task.sleep(for: .milliseconds(50))
            await gauge.leave()
            return job.workload
        }
        let running = start(worker)
        defer { running.cancel() }
        let clients = [GearmanClient(servers: [one.address]), GearmanClient(servers: [two.address])]
        try await withDeadline(Self.limit) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<24 {
                    group.addTask {
                        let result = try await clients[index % 2].submit("tracked", workload: Array("\(index)".utf8))
                        #expect(String(buffer: result) == "\(index)")
                    }
                }
                try await group.waitForAll()
            }
        }
        #expect(await gauge.peak <= 2)
        #expect(await gauge.peak >= 1)
        for client in clients { await client.shutdown() }
    }

    @Test(arguments: ServerKind.allCases)
    func gracefulStopFinishesRunningJobs(kind: ServerKind) async throws {
        let server = try await TestServer.start(kind)
        let gate = Gate()
        let worker = makeWorker([server.address])
        worker.register("held") { job in
            await gate.arrive()
            await gate.waitForOpening()
            return job.workload
        }
        let running = start(worker)
        defer { running.cancel() }
        let client = GearmanClient(servers: [server.address])
        try await withDeadline(Self.limit) {
            let job = Task { try await client.submit("held", workload: Array("kept".utf8)) }
            await gate.waitForArrival()
            worker.shutdown()
            // Stopping takes no new jobs: this one stays queued.
            let queued = try await client.submitBackground("echo", workload: ByteBuffer())
            await gate.open()
            #expect(String(buffer: try await job.value) == "kept")
            try await running.value
            // gearmand answers GRAB_JOBs on its own thread: one the worker sent before draining can still pick up
            // the job submitted after, and a grabbed job is run, not refused. Gearbox answers a worker's grabs in
            // the order they arrived, so there the job must still be queued.
            if kind == .gearbox {
                #expect(try await client.status(of: queued).isKnown)
            }
            while try await server.admin("workers").contains("test-worker") {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        await client.shutdown()
    }
}

/// Lets a test hold a worker function until it says so. A waiting task that is cancelled stops waiting, so a
/// test that fails never leaves a job held for ever.
actor Gate {
    private enum Moment: Hashable {
        case arrival
        case opening
    }

    private var passed: Set<Moment> = []
    private var waiters: [Moment: [UUID: CheckedContinuation<Void, Never>]] = [:]

    func arrive() { pass(.arrival) }
    func waitForArrival() async { await wait(for: .arrival) }
    func open() { pass(.opening) }
    func waitForOpening() async { await wait(for: .opening) }

    private func pass(_ moment: Moment) {
        passed.insert(moment)
        waiters.removeValue(forKey: moment)?.values.forEach { $0.resume() }
    }

    private func wait(for moment: Moment) async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if passed.contains(moment) || Task.isCancelled {
                    continuation.resume()
                } else {
                    waiters[moment, default: [:]][id] = continuation
                }
            }
        } onCancel: {
            Task { await self.release(id, waitingFor: moment) }
        }
    }

    private func release(_ id: UUID, waitingFor moment: Moment) {
        waiters[moment]?.removeValue(forKey: id)?.resume()
    }
}

actor Recorder {
    var values: [String] = []
    func append(_ value: String) { values.append(value) }
}

actor Gauge {
    private(set) var current = 0
    private(set) var peak = 0
    func enter() {
        current += 1
        peak = max(peak, current)
    }
    func leave() { current -= 1 }
}
