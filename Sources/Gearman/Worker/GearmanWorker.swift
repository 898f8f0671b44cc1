import GearmanProtocol
import GearmanTLS
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// Takes jobs from one or more Gearman job servers (Gearbox or gearmand) and runs registered functions.
///
/// Register functions, then `run()` it, alone or in a `ServiceGroup`. It runs up to `concurrency` jobs at
/// once, taken from whichever servers have work; each connection sleeps (PRE_SLEEP) when there is no work and wakes on NOOP, and reconnects
/// with backoff when the server goes away. A graceful shutdown stops taking jobs, lets running jobs finish
/// and report, then closes the connections.
public final class GearmanWorker: Service, Sendable {
    public typealias Function = @Sendable (GearmanJob) async throws -> ByteBuffer

    private struct Registration {
        var timeout: Duration?
        var function: Function
    }

    public let servers: [GearmanServerAddress]
    public let concurrency: Int
    public let clientID: String?
    private let group: any EventLoopGroup
    private let tls: NIOSSLContext?
    private let metrics: WorkerMetrics?
    private let logger: Logger

    private struct State {
        var functions: [String: Registration] = [:]
        var liveChannels: [ObjectIdentifier: any Channel] = [:]
        var isStopping = false
    }

    private let slots: JobSlots
    private let state = NIOLockedValueBox(State())

    /// - Parameters:
    ///   - concurrency: how many jobs run at once, from all servers together.
    ///   - clientID: sent with SET_CLIENT_ID; `gearadmin --workers` shows it.
    ///   - tls: TLS for every connection (`GearmanTLSFiles.makeClientContext()`).
    ///   - metrics: counts jobs by function and outcome and times them.
    public init(
        servers: [GearmanServerAddress] = [GearmanServerAddress(host: "127.0.0.1")],
        concurrency: Int = 1,
        clientID: String? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        tls: NIOSSLContext? = nil,
        metrics: WorkerMetrics? = nil,
        logger: Logger = Logger(label: "gearman.worker")
    ) {
        self.metrics = metrics
        precondition(!servers.isEmpty, "a worker needs at least one server")
        precondition(concurrency > 0, "concurrency must be at least 1")
        self.servers = servers
        self.concurrency = concurrency
        self.clientID = clientID
        self.group = eventLoopGroup
        self.tls = tls
        self.logger = logger
        self.slots = JobSlots(concurrency)
    }

    /// Registers a function; call before `run()`. With a `timeout`, the worker announces it with
    /// CAN_DO_TIMEOUT and the server gives the job to another worker when it runs longer.
    /// Throw `GearmanWorkFailure` for WORK_FAIL; any other error is sent as WORK_EXCEPTION with its text,
    /// preceded by its code for a `GearmanCodedError`.
    public func register(_ name: String, timeout: Duration? = nil, _ function: @escaping Function) {
        state.withLockedValue { $0.functions[name] = Registration(timeout: timeout, function: function) }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                for server in servers {
                    group.addTask { await self.serve(server) }
                }
            }
        } onGracefulShutdown: {
            self.shutdown(graceful: true)
        }
    }

    /// Asks `run()` to return, for a worker run outside a `ServiceGroup`. Either way it stops taking jobs at
    /// once (no GRAB_JOB is sent after this returns). Gracefully, `run()` returns once running jobs have
    /// finished and reported; otherwise their connections close now and the servers give the jobs to
    /// other workers.
    public func shutdown(graceful: Bool = true) {
        slots.close()
        let channels = state.withLockedValue { state in
            state.isStopping = true
            return Array(state.liveChannels.values)
        }
        for channel in channels {
            if graceful {
                channel.writeAndFlush(WorkerCommand.drain, promise: nil)
            } else {
                channel.close(promise: nil)
            }
        }
    }

    @available(*, deprecated, renamed: "shutdown(graceful:)")
    public func shutdownGracefully() {
        shutdown(graceful: true)
    }

    private var stopping: Bool { state.withLockedValue { $0.isStopping } }

    private func serve(_ server: GearmanServerAddress) async {
        var failures = 0
        while !stopping && !Task.isCancelled {
            do {
                try await serveConnection(server)
                failures = 0
                if !stopping {
                    logger.info("connection closed, reconnecting", metadata: ["gearman.server": "\(server)"])
                }
            } catch {
                failures += 1
                logger.debug("cannot connect", metadata: ["gearman.server": "\(server)", "gearman.error": "\(error)"])
            }
            await sleepUnlessStopped(Backoff.delay(afterFailures: failures))
        }
    }

    private func serveConnection(_ server: GearmanServerAddress) async throws {
        let (jobs, continuation) = WorkerChannelHandler.Jobs.makeStream()
        let machine: WorkerConnectionStateMachine = state.withLockedValue { state in
            let announced = state.functions.map { name, registration in
                WorkerConnectionStateMachine.Function(
                    name: name, timeoutMilliseconds: registration.timeout.map(Self.milliseconds))
            }
            return WorkerConnectionStateMachine(
                functions: announced.sorted { $0.name < $1.name }, capacity: concurrency, clientID: clientID)
        }
        let logger = self.logger
        let slots = self.slots
        let tls = self.tls
        let (channel, handshake) = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator.largeReads)
            .deadPeerDetection(.default)
            .connectTimeout(.seconds(5))
            .connect(host: server.host, port: server.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handshake = try tls.map {
                        try channel.pipeline.syncOperations.addGearmanTLSClient(context: $0, host: server.host)
                    }
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(GearmanFrameDecoder()),
                        WorkerChannelHandler(machine: machine, slots: slots, jobs: continuation, logger: logger))
                    return (channel, handshake)
                }
            }
        do {
            try await handshake?.get()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        let key = ObjectIdentifier(channel)
        let drainNow = state.withLockedValue { state in
            state.liveChannels[key] = channel
            return state.isStopping
        }
        if drainNow {
            channel.writeAndFlush(WorkerCommand.drain, promise: nil)
        }
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                for await job in jobs {
                    group.addTask { await self.execute(job, from: server, on: channel) }
                }
                // The connection is gone. Results of jobs still running could no longer be delivered, and the
                // server gives those jobs to another worker: cancel them, so that their slots come back and
                // the connection is made again without waiting for them.
                group.cancelAll()
            }
        } onCancel: {
            channel.close(promise: nil)
        }
        state.withLockedValue { _ = $0.liveChannels.removeValue(forKey: key) }
        try? await channel.closeFuture.get()
    }

    private func execute(
        _ assigned: WorkerConnectionStateMachine.AssignedJob, from server: GearmanServerAddress, on channel: any Channel
    ) async {
        let job = GearmanJob(assigned, server: server, channel: channel)
        let function = state.withLockedValue { $0.functions[job.function]?.function }
        let outcome: WorkerConnectionStateMachine.Outcome
        let started = metrics == nil ? nil : NIODeadline.now()
        if let function {
            do {
                outcome = .complete(try await function(job))
            } catch is GearmanWorkFailure {
                outcome = .fail
            } catch let error as any GearmanCodedError {
                outcome = .exception(
                    GearmanExceptionText.make(code: error.exceptionCode, description: error.description))
            } catch {
                outcome = .exception("\(error)")
            }
        } else {
            outcome = .fail
        }
        channel.writeAndFlush(WorkerCommand.finish(handle: assigned.handle, outcome), promise: nil)
        slots.release(1)
        if let metrics, let started {
            let name: String
            switch outcome {
            case .complete: name = "complete"
            case .fail: name = "fail"
            case .exception: name = "exception"
            }
            metrics.record(
                function: job.function, outcome: name, nanoseconds: (NIODeadline.now() - started).nanoseconds)
        }
    }

    private func sleepUnlessStopped(_ delay: TimeAmount) async {
        var remaining = delay.nanoseconds
        let slice: Int64 = 50_000_000
        while remaining > 0, !stopping {
            do {
                try await Task.sleep(nanoseconds: UInt64(min(remaining, slice)))
            } catch {
                return
            }
            remaining -= slice
        }
    }

    private static func milliseconds(_ duration: Duration) -> UInt32 {
        UInt32(clamping: duration.wholeMilliseconds)
    }
}
