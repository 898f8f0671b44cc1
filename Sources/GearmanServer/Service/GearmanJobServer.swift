import GearmanProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// A Gearman job server, wire-compatible with gearmand 1.1, as a swift-service-lifecycle `Service`.
///
/// `bind` starts listening; `run` serves until a graceful shutdown (SIGTERM/SIGINT through a `ServiceGroup`,
/// the admin `shutdown` command, or `shutdown()`), then stops accepting, lets running jobs finish for the
/// grace period and closes every connection.
public final class GearmanJobServer: StoppableService {
    public let configuration: GearmanServerConfiguration
    /// Where the server listens, with the port it really got.
    public let localAddress: SocketAddress
    /// Where its TLS listener of its own listens (`GearmanServerTLS.port`), if it has one.
    public let tlsLocalAddress: SocketAddress?
    /// Where gearmand's HTTP protocol is served (`GearmanServerConfiguration.httpPort`), if it is.
    public let httpLocalAddress: SocketAddress?
    private let serverChannels: [any Channel]
    private let core: ServerCore
    private let storeWriter: StoreWriter?
    private let group: any EventLoopGroup
    private let ownsGroup: Bool
    private let logger: Logger
    private let stopRequest: NIOLockedValueBox<StopRequest>

    private struct StopRequest {
        var requested: Bool? = nil  // the Bool says graceful
        var waiter: CheckedContinuation<Bool, Never>?
    }

    private init(
        configuration: GearmanServerConfiguration, serverChannels: [any Channel], core: ServerCore,
        storeWriter: StoreWriter?, group: any EventLoopGroup, ownsGroup: Bool, logger: Logger,
        stopRequest: NIOLockedValueBox<StopRequest>
    ) {
        self.storeWriter = storeWriter
        self.configuration = configuration
        self.localAddress = serverChannels[0].localAddress!
        let tlsIndex = configuration.tls?.port == nil ? nil : 1
        self.tlsLocalAddress = tlsIndex.map { serverChannels[$0].localAddress! }
        self.httpLocalAddress = configuration.httpPort == nil ? nil : serverChannels.last!.localAddress
        self.serverChannels = serverChannels
        self.core = core
        self.group = group
        self.ownsGroup = ownsGroup
        self.logger = logger
        self.stopRequest = stopRequest
    }

    /// Opens the store and puts every job it holds back in its queue, then starts listening. With no
    /// `eventLoopGroup`, the server makes one of `configuration.threads` loops and shuts it down when `run`
    /// returns. Throws `StoreError` when the store cannot be opened; a row that cannot be read is set aside
    /// and logged instead; throws `GearmanServerConfigurationError` for a configuration it cannot run with.
    public static func bind(
        configuration: GearmanServerConfiguration = GearmanServerConfiguration(),
        eventLoopGroup: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "gearbox.server")
    ) async throws -> GearmanJobServer {
        guard configuration.jobHandlePrefix.utf8.count <= JobHandleFormat.maximumPrefixLength else {
            throw GearmanServerConfigurationError(
                property: "jobHandlePrefix", reason: "at most \(JobHandleFormat.maximumPrefixLength) bytes")
        }
        if let problem = configuration.resultCache?.problem ?? configuration.retryPolicy.problem {
            throw problem
        }
        let group = eventLoopGroup ?? MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        let engine = JobServerEngine(
            configuration: .init(
                jobRetries: configuration.jobRetries,
                handlePrefix: configuration.jobHandlePrefix,
                processID: Int(getpid()),
                verbosity: configuration.verbosity,
                storesBackgroundJobs: configuration.store.isDurable, metrics: configuration.metrics,
                resultCache: configuration.resultCache, retryPolicy: configuration.retryPolicy,
                deadLetterPolicy: configuration.deadLetterPolicy, reportsEvents: configuration.jobEvents != nil))
        let stopRequest = NIOLockedValueBox(StopRequest())
        if configuration.store.isShared, let problem = configuration.storeGroup.problem {
            throw StoreError(location: configuration.store, reason: problem)
        }
        let storeWriter =
            configuration.store.isDurable
            ? StoreWriter(
                location: configuration.store, serverName: configuration.storeServerName,
                group: configuration.storeGroup, metrics: configuration.metrics,
                keepsEvents: configuration.jobEvents != nil, logger: logger)
            : nil
        let core = ServerCore(
            engine: engine, timerLoop: group.next(), logger: logger, storeWriter: storeWriter,
            jobEvents: configuration.jobEvents,
            shutdownRequested: { graceful in Self.requestStop(stopRequest, graceful: graceful) })
        configuration.metrics?.attach { core.inspect { $0.snapshot() } }
        configuration.operatorView?.attach(core.operatorSource(configuration: configuration))
        if let storeWriter {
            do {
                let started = NIODeadline.now()
                // Outcomes are applied on an event loop, so that the writer starts its next commit at once.
                let reportLoop = group.next()
                let recovery = try await storeWriter.open(
                    restore: { core.restore($0) },
                    restoreEvents: { core.handOver($0) },
                    report: { outcome in reportLoop.execute { core.storeFinished(outcome) } },
                    group: core.storeGroupDelegate)
                let milliseconds = (NIODeadline.now() - started).nanoseconds / 1_000_000
                logger.info(
                    "store opened",
                    metadata: [
                        "store.location": "\(configuration.store)", "store.restored": "\(recovery.restored)",
                        "store.server": "\(configuration.store.isShared ? configuration.storeServerName : "-")",
                        "store.setAside": "\(recovery.setAside)", "store.milliseconds": "\(milliseconds)",
                    ])
                if recovery.setAside > 0 {
                    logger.warning(
                        "store: rows that are not jobs were set aside",
                        metadata: [
                            "store.rows": "\(recovery.setAside)",
                            "store.table":
                                "\(configuration.store.isShared ? PostgresJobStore.setAsideTable : SQLiteJobStore.setAsideTable)",
                        ])
                }
            } catch {
                await storeWriter.close()
                if eventLoopGroup == nil {
                    try? await group.shutdownGracefully()
                }
                throw error
            }
        }
        var channels: [any Channel] = []
        do {
            let tls = configuration.tls
            channels.append(
                try await Self.listen(
                    on: configuration.port, tls: tls?.port == nil ? tls?.context : nil, core: core, group: group,
                    configuration: configuration))
            if let tls, let port = tls.port {
                channels.append(
                    try await Self.listen(
                        on: port, tls: tls.context, core: core, group: group, configuration: configuration))
            }
            if let port = configuration.httpPort {
                channels.append(
                    try await Self.listenForHTTP(on: port, core: core, group: group, configuration: configuration))
            }
        } catch {
            for channel in channels {
                try? await channel.close()
            }
            await storeWriter?.close()
            if eventLoopGroup == nil {
                try? await group.shutdownGracefully()
            }
            throw error
        }
        for (index, channel) in channels.enumerated() {
            let isHTTP = configuration.httpPort != nil && index == channels.count - 1
            let speaksTLS = !isHTTP && (index > 0 || configuration.tls?.port == nil && configuration.tls != nil)
            logger.info(
                "listening",
                metadata: [
                    "gearman.address": "\(channel.localAddress.map { "\($0)" } ?? "?")", "gearman.tls": "\(speaksTLS)",
                    "gearman.protocol": "\(isHTTP ? "http" : "gearman")", "gearman.threads": "\(configuration.threads)",
                ])
        }
        return GearmanJobServer(
            configuration: configuration, serverChannels: channels, core: core, storeWriter: storeWriter,
            group: group, ownsGroup: eventLoopGroup == nil, logger: logger, stopRequest: stopRequest)
    }

    /// One listener for Gearman's binary and admin protocols, in plaintext or, with `tls`, over TLS.
    private static func listen(
        on port: Int, tls: NIOSSLContext?, core: ServerCore, group: any EventLoopGroup,
        configuration: GearmanServerConfiguration
    ) async throws -> any Channel {
        let certificateNames = configuration.adminAccess.certificateNames
        return try await listen(on: port, core: core, group: group, configuration: configuration) { handlers in
            if let tls {
                try handlers.addHandler(NIOSSLServerHandler(context: tls))
                try handlers.addHandler(ClientCertificateCheck(allowedNames: certificateNames))
            }
        }
    }

    /// gearmand's HTTP protocol: each connection is one more Gearman client behind an HTTP codec.
    private static func listenForHTTP(
        on port: Int, core: ServerCore, group: any EventLoopGroup, configuration: GearmanServerConfiguration
    ) async throws -> any Channel {
        let (maximumBodySize, maximumPacketSize) = (configuration.httpMaximumBodySize, configuration.maximumPacketSize)
        return try await listen(
            on: port, core: core, group: group, configuration: configuration,
            readAllocator: .largeReads
        ) { handlers in
            try handlers.configureHTTPServerPipeline(withErrorHandling: true)
            try handlers.addHandler(
                HTTPGearmanBridge(maximumBodySize: maximumBodySize, maximumPacketSize: maximumPacketSize))
        }
    }

    /// A listener whose connections each end in a `ServerConnectionHandler`, behind the handlers that
    /// `addFront` puts before it (TLS, an HTTP codec).
    private static func listen(
        on port: Int, core: ServerCore, group: any EventLoopGroup, configuration: GearmanServerConfiguration,
        readAllocator: AdaptiveRecvByteBufferAllocator = AdaptiveRecvByteBufferAllocator(),
        addFront: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void
    ) async throws -> any Channel {
        let maximumPacketSize = configuration.maximumPacketSize
        let adminAccess = configuration.adminAccess
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .deadPeerDetection(configuration.deadPeerDetection)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(.recvAllocator, value: readAllocator)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handlers = channel.pipeline.syncOperations
                    try addFront(handlers)
                    try handlers.addHandler(
                        ServerConnectionHandler(
                            core: core, eventLoop: channel.eventLoop, maximumPacketSize: maximumPacketSize,
                            adminAccess: adminAccess))
                }
            }
            .bind(host: configuration.host, port: port)
            .get()
    }

    public func run() async throws {
        let graceful = await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await self.waitForStopRequest()
            } onCancel: {
                self.shutdown(graceful: false)
            }
        } onGracefulShutdown: {
            self.shutdown(graceful: true)
        }
        for channel in serverChannels {
            try? await channel.close()
        }
        if graceful {
            await waitForRunningJobs()
        }
        let (abandoned, kept) = core.inspect { engine in
            (engine.jobs.count, engine.jobs.values.count { $0.isStored })
        }
        if abandoned > kept {
            logger.warning(
                "stopping with jobs that no worker finished", metadata: ["gearman.jobs": "\(abandoned - kept)"])
        }
        if kept > 0 {
            logger.info("stopping; stored jobs wait for the next start", metadata: ["gearman.jobs": "\(kept)"])
        }
        core.closeAllConnections()
        // Commits what is pending while the event loops still run, since its outcomes are applied there. A
        // job that ends as its worker's connection closes after this keeps its row and runs again after the
        // next start (at-least-once).
        await storeWriter?.close()
        if ownsGroup {
            try await group.shutdownGracefully()
        }
        logger.info("stopped")
    }

    /// Asks `run` to return: gracefully (running jobs may finish) or at once.
    public func shutdown(graceful: Bool = true) {
        Self.requestStop(stopRequest, graceful: graceful)
    }

    private static func requestStop(_ box: NIOLockedValueBox<StopRequest>, graceful: Bool) {
        let waiter = box.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
            if state.requested == nil || !graceful {
                state.requested = graceful
            }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: graceful)
    }

    private func waitForStopRequest() async -> Bool {
        await withCheckedContinuation { continuation in
            let graceful = stopRequest.withLockedValue { state -> Bool? in
                if let requested = state.requested { return requested }
                state.waiter = continuation
                return nil
            }
            if let graceful {
                continuation.resume(returning: graceful)
            }
        }
    }

    private func waitForRunningJobs() async {
        let deadline = NIODeadline.now() + configuration.shutdownGracePeriod
        while core.inspect({ engine in engine.runningJobCount > 0 }), NIODeadline.now() < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
