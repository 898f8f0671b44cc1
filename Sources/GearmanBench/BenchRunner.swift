import Atomics
import GearmanProtocol
import GearmanTLS
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a benchmark: connects the workers and clients, runs the prefill, the warm-up, the measured phase
/// and the drain, and gathers what they saw.
public struct BenchRunner: Sendable {
    public struct Progress: Sendable {
        /// "prefill", "warm-up", "measure" or "drain".
        public var phase: String
        public var jobs: Int
        public var seconds: Double
        public var jobsPerSecond: Double
    }

    public enum Failure: Error, CustomStringConvertible {
        case invalid([String])
        case connect(String)
        case drainStalled(done: Int, expected: Int)

        public var description: String {
            switch self {
            case .invalid(let problems): problems.joined(separator: "; ")
            case .connect(let message): message
            case .drainStalled(let done, let expected): "the drain stalled at \(done) of \(expected) jobs"
            }
        }
    }

    public let configuration: BenchConfiguration
    /// Started for a configuration that names no server.
    public let embeddedServer: BenchEmbeddedServer?

    public init(configuration: BenchConfiguration, embeddedServer: BenchEmbeddedServer? = nil) {
        self.configuration = configuration
        self.embeddedServer = embeddedServer
    }

    /// Runs the whole benchmark; `progress` is called about once a second from another thread.
    public func run(progress: (@Sendable (Progress) -> Void)? = nil) async throws -> BenchResult {
        let config = configuration
        let problems = config.problems()
        guard problems.isEmpty else { throw Failure.invalid(problems) }

        if let server = config.server {
            return try await measure(server, serverPID: config.serverPID, embedded: false, progress: progress)
        }
        guard let embeddedServer else {
            throw Failure.invalid(["no server to measure: name one, or give the runner an embedded server"])
        }
        return try await embeddedServer.serve(config.serverThreads) { port in
            try await measure(
                GearmanServerAddress(host: "127.0.0.1", port: port), serverPID: config.serverPID ?? getpid(),
                embedded: true, progress: progress)
        }
    }

    private func measure(
        _ address: GearmanServerAddress, serverPID: Int32?, embedded: Bool, progress: (@Sendable (Progress) -> Void)?
    ) async throws -> BenchResult {
        let config = configuration
        let group = MultiThreadedEventLoopGroup(numberOfThreads: config.loops)
        let session = Session(config: config, address: address, group: group, progress: progress)
        let result: Result<BenchResult, any Error>
        do {
            result = .success(try await session.run(serverPID: serverPID, embedded: embedded))
        } catch {
            result = .failure(error)
        }
        await session.close()
        try? await group.shutdownGracefully()
        return try result.get()
    }
}

/// One connection of a run and its handler, which only the connection's event loop may touch.
private struct BenchConnection<Handler: AnyObject>: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<Handler>
}

/// The connections of one run and the phases run over them.
private final class Session {
    let config: BenchConfiguration
    let address: GearmanServerAddress
    let group: any EventLoopGroup
    let progress: (@Sendable (BenchRunner.Progress) -> Void)?
    let clientCompletions = ManagedAtomic<Int>(0)
    let workerCompletions = ManagedAtomic<Int>(0)
    var clients: [BenchConnection<BenchClientHandler>] = []
    var workers: [BenchConnection<BenchWorkerHandler>] = []

    init(
        config: BenchConfiguration, address: GearmanServerAddress, group: any EventLoopGroup,
        progress: (@Sendable (BenchRunner.Progress) -> Void)?
    ) {
        self.config = config
        self.address = address
        self.group = group
        self.progress = progress
    }

    func run(serverPID: Int32?, embedded: Bool) async throws -> BenchResult {
        if !config.background {
            try await connectWorkers()
        }
        for index in 0..<config.clients {
            let (function, payload, inFlight) = (config.function, config.payload, config.inFlight)
            let progress = clientCompletions
            clients.append(
                try await connect {
                    BenchClientHandler(
                        function: function, payload: payload, inFlight: inFlight,
                        seed: 0x9E37_79B9_7F4A_7C15 &* UInt64(index + 1), progress: progress)
                })
        }

        // Before everything measured, the prefill's idle-queue reference included.
        switch config.warmUp {
        case .seconds(let seconds) where seconds > 0:
            _ = try await runPhase("warm-up", length: .seconds(seconds))
        case .jobs(let jobs) where jobs > 0:
            _ = try await runPhase("warm-up", length: .jobs(jobs))
        default:
            break
        }

        var prefill: BenchResult.Phase?
        var emptyQueue: BenchResult.Phase?
        var bytesPerQueuedJob: Double?
        if config.prefill > 0 {
            // The same submits into the idle queue first, so that the deep-queue rate has its reference
            // from the same server process.
            let (idle, idleSeconds) = try await runPhase("empty queue", length: config.length)
            emptyQueue = BenchResult.Phase(jobs: idle.completed, seconds: idleSeconds)
            let before = serverPID.flatMap(ProcessSample.read(pid:))
            let (tally, seconds) = try await runPhase("prefill", length: .jobs(config.prefill), paced: false)
            prefill = BenchResult.Phase(jobs: tally.completed, seconds: seconds)
            if let before, let after = serverPID.flatMap(ProcessSample.read(pid:)), tally.completed > 0 {
                bytesPerQueuedJob =
                    Double(after.rssBytes - before.rssBytes) / Double(tally.completed) - Double(config.payload.average)
            }
        }

        let before = serverPID.flatMap(ProcessSample.read(pid:))
        let (tally, seconds) = try await runPhase("measure", length: config.length)
        let after = serverPID.flatMap(ProcessSample.read(pid:))

        var drain: BenchResult.Phase?
        if config.background, config.workers > 0 {
            let queued = clients.count > 0 ? clientCompletions.load(ordering: .relaxed) : 0
            drain = try await runDrain(expected: queued)
        }

        var usage: BenchResult.ServerUsage?
        if let serverPID {
            var cpu: Double?
            var system: Double?
            var switches: Double?
            if let before, let after, tally.completed > 0 {
                let jobs = Double(tally.completed)
                let microsecondsPerTick = 1_000_000 / ProcessSample.ticksPerSecond
                cpu = Double(after.cpuTicks - before.cpuTicks) * microsecondsPerTick / jobs
                system = Double(after.systemTicks - before.systemTicks) * microsecondsPerTick / jobs
                if let first = before.contextSwitches, let last = after.contextSwitches, last >= first {
                    switches = Double(last - first) / jobs
                }
            }
            usage = BenchResult.ServerUsage(
                pid: serverPID, cpuMicrosecondsPerJob: cpu, systemMicrosecondsPerJob: system,
                contextSwitchesPerJob: switches,
                rssBytes: ProcessSample.residentBytes(pid: serverPID) ?? after?.rssBytes,
                bytesPerQueuedJobBeyondPayload: bytesPerQueuedJob, includesGenerator: embedded)
        }
        let workerErrors = await workerErrorCount()
        return BenchResult(
            server: embedded ? "embedded \(address)" : address.description,
            rate: config.rate,
            mode: config.background ? "background" : "foreground",
            clients: config.clients, workers: config.workers, inFlight: config.inFlight,
            payload: config.payload.description,
            measured: BenchResult.Phase(jobs: tally.completed, seconds: seconds),
            submitted: tally.submitted, errors: tally.errors + workerErrors, latency: tally.latency.summary,
            prefill: prefill, emptyQueue: emptyQueue, drain: drain, serverUsage: usage)
    }

    /// Runs one phase on every client at once, returning what they saw and how long it took, from the first
    /// submit to the last answer.
    private func runPhase(
        _ name: String, length: BenchConfiguration.Length, paced: Bool = true
    ) async throws -> (ConnectionTally, Double) {
        let start = NIODeadline.now()
        var deadline: NIODeadline?
        var quota: Int?
        var total: Int?
        switch length {
        case .seconds(let seconds):
            deadline = start + .nanoseconds(Int64(seconds * 1e9))
        case .jobs(let jobs):
            total = jobs
        }
        let counted = clientCompletions.load(ordering: .relaxed)
        let reporter = startReporter(name, start: start, counter: clientCompletions, base: counted)
        defer { reporter?.cancel() }
        var futures: [EventLoopFuture<ConnectionTally>] = []
        for (index, client) in clients.enumerated() {
            if let total {
                quota = BenchConfiguration.share(of: total, client: index, of: clients.count)
            }
            let rate = paced ? config.rate.map { $0 / Double(clients.count) } : nil
            let phase = BenchPhase(quota: quota, deadline: deadline, background: config.background, rate: rate)
            let handler = client.handler
            let loop = client.channel.eventLoop
            let promise = loop.makePromise(of: ConnectionTally.self)
            loop.execute { handler.value.start(phase, promise: promise) }
            futures.append(promise.futureResult)
        }
        var tally = ConnectionTally()
        for future in futures {
            tally.add(try await future.get())
        }
        let seconds = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        return (tally, seconds)
    }

    private func runDrain(expected: Int) async throws -> BenchResult.Phase {
        let start = NIODeadline.now()
        let reporter = startReporter("drain", start: start, counter: workerCompletions, base: 0)
        defer { reporter?.cancel() }
        try await connectWorkers()
        var last = 0
        var lastChange = NIODeadline.now()
        while true {
            let done = workerCompletions.load(ordering: .relaxed)
            if done >= expected { break }
            if done != last {
                last = done
                lastChange = NIODeadline.now()
            } else if NIODeadline.now() - lastChange > .seconds(10) {
                throw BenchRunner.Failure.drainStalled(done: done, expected: expected)
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        let seconds = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        return BenchResult.Phase(jobs: workerCompletions.load(ordering: .relaxed), seconds: seconds)
    }

    private func connectWorkers() async throws {
        let (function, grabs, completed) = (config.function, config.grabs, workerCompletions)
        for _ in 0..<config.workers {
            workers.append(
                try await connect { BenchWorkerHandler(function: function, grabs: grabs, completed: completed) })
        }
    }

    /// Connects, with the handler `makeHandler` makes on the connection's event loop.
    private func connect<Handler: ChannelHandler & SendableMetatype>(
        _ makeHandler: @escaping @Sendable () -> Handler
    ) async throws -> BenchConnection<Handler> {
        let (tls, host) = (config.tls, address.host)
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.maxMessagesPerRead, value: 16)
        do {
            let (channel, handler, handshake) = try await bootstrap.connect(host: address.host, port: address.port) {
                channel in
                channel.eventLoop.makeCompletedFuture {
                    let handshake = try tls.map {
                        try channel.pipeline.syncOperations.addGearmanTLSClient(context: $0, host: host)
                    }
                    let handler = makeHandler()
                    try channel.pipeline.syncOperations.addHandler(handler)
                    return (channel, NIOLoopBound(handler, eventLoop: channel.eventLoop), handshake)
                }
            }
            do {
                try await handshake?.get()
            } catch {
                channel.close(promise: nil)
                throw error
            }
            return BenchConnection(channel: channel, handler: handler)
        } catch {
            throw BenchRunner.Failure.connect("cannot connect to \(address): \(error)")
        }
    }

    private func startReporter(
        _ name: String, start: NIODeadline, counter: ManagedAtomic<Int>, base: Int
    ) -> RepeatedTask? {
        guard let progress else { return nil }
        return group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            let jobs = counter.load(ordering: .relaxed) - base
            let seconds = Double((NIODeadline.now() - start).nanoseconds) / 1e9
            progress(.init(phase: name, jobs: jobs, seconds: seconds, jobsPerSecond: Double(jobs) / max(seconds, 1e-9)))
        }
    }

    private func workerErrorCount() async -> Int {
        var errors = 0
        for worker in workers {
            let handler = worker.handler
            errors += (try? await worker.channel.eventLoop.submit { handler.value.errors }.get()) ?? 0
        }
        return errors
    }

    func close() async {
        for connection in clients.map(\.channel) + workers.map(\.channel) {
            try? await connection.close()
        }
    }
}
