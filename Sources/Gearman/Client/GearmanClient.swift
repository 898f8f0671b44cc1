import GearmanProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Submits jobs to one or more Gearman job servers (Gearbox or gearmand) and awaits their results.
///
/// One connection per server is shared by every caller and pipelined: start many jobs at once with
/// `async let` or a task group. Jobs with a unique key always go to the same server while it is up;
/// others are spread round-robin. A server that refuses connections is skipped until its backoff expires.
/// With `tls` (`GearmanTLSFiles.makeClientContext()`), every connection speaks TLS and checks the server's
/// certificate.
public final class GearmanClient: Sendable {
    public let servers: [GearmanServerAddress]
    private let connections: [ServerConnection]
    private let roundRobin = NIOLockedValueBox(0)
    private let logger: Logger

    public init(
        servers: [GearmanServerAddress] = [GearmanServerAddress(host: "127.0.0.1")],
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        tls: NIOSSLContext? = nil,
        logger: Logger = Logger(label: "gearman.client")
    ) {
        precondition(!servers.isEmpty, "a client needs at least one server")
        self.servers = servers
        self.logger = logger
        self.connections = servers.map {
            ServerConnection(address: $0, group: eventLoopGroup, tls: tls, logger: logger)
        }
    }

    deinit {
        for connection in connections {
            connection.close()
        }
    }

    /// Closes every connection; callers still waiting get `GearmanError.connectionLost`.
    public func shutdown() async {
        for connection in connections {
            await connection.shutdown()
        }
    }

    // MARK: Foreground jobs

    /// Runs a job and returns its result. Throws `GearmanError.workFailed` or `.workException` when the
    /// worker reports failure, `.timeout` when `timeout` passes first, `CancellationError` when the task is
    /// cancelled.
    public func submit(
        _ function: String,
        workload: ByteBuffer,
        unique: String? = nil,
        priority: GearmanPriority = .normal,
        timeout: Duration? = nil
    ) async throws -> ByteBuffer {
        let job = Self.job(function, workload, unique, priority, background: false)
        let reply = try await perform(.submit(job), routingKey: unique, timeout: timeout)
        guard case .result(let bytes) = reply else { throw GearmanError.protocolViolation("unexpected \(reply)") }
        return bytes
    }

    public func submit(
        _ function: String,
        workload: some Collection<UInt8>,
        unique: String? = nil,
        priority: GearmanPriority = .normal,
        timeout: Duration? = nil
    ) async throws -> ByteBuffer {
        try await submit(
            function, workload: ByteBuffer(bytes: workload), unique: unique, priority: priority, timeout: timeout)
    }

    /// Runs a job and streams what its worker reports: `.created`, then any `.data`, `.warning` and
    /// `.status`, then `.complete` with the result. Failures end the stream with a `GearmanError`.
    /// Stopping the iteration stops waiting.
    public func stream(
        _ function: String,
        workload: ByteBuffer,
        unique: String? = nil,
        priority: GearmanPriority = .normal,
        timeout: Duration? = nil
    ) async throws -> AsyncThrowingStream<GearmanJobEvent, any Error> {
        let job = Self.job(function, workload, unique, priority, background: false)
        let connection = try await pickConnection(routingKey: unique)
        let channel = try await connection.channel()
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: GearmanJobEvent.self)
        let request = PendingRequest(server: connection.address, stream: continuation)
        continuation.onTermination = { reason in
            if case .cancelled = reason, request.cancel() {
                channel.writeAndFlush(ClientCommand.cancel(request), promise: nil)
            }
        }
        send(request, .submit(job), timeout: timeout, on: channel)
        return stream
    }

    // MARK: Background jobs and status

    /// Queues a job that runs without the caller waiting; returns its handle once the server accepted it.
    public func submitBackground(
        _ function: String,
        workload: ByteBuffer,
        unique: String? = nil,
        priority: GearmanPriority = .normal,
        timeout: Duration? = nil
    ) async throws -> GearmanJobHandle {
        let job = Self.job(function, workload, unique, priority, background: true)
        let (reply, server) = try await performAnywhere(.submit(job), routingKey: unique, timeout: timeout)
        guard case .created(let handle) = reply else { throw GearmanError.protocolViolation("unexpected \(reply)") }
        return GearmanJobHandle(handle, server: server)
    }

    public func submitBackground(
        _ function: String,
        workload: some Collection<UInt8>,
        unique: String? = nil,
        priority: GearmanPriority = .normal,
        timeout: Duration? = nil
    ) async throws -> GearmanJobHandle {
        try await submitBackground(
            function, workload: ByteBuffer(bytes: workload), unique: unique, priority: priority, timeout: timeout)
    }

    /// Asks the server that holds the job how it is doing (GET_STATUS).
    public func status(of handle: GearmanJobHandle, timeout: Duration? = nil) async throws -> GearmanJobStatus {
        guard let connection = connections.first(where: { $0.address == handle.server }) else {
            throw GearmanError.noServerAvailable(reason: "\(handle.server) is not one of this client's servers")
        }
        let reply = try await perform(.status(handle: handle.text), on: connection, timeout: timeout)
        guard case .status(let status) = reply else { throw GearmanError.protocolViolation("unexpected \(reply)") }
        return status
    }

    /// Asks the server that a job with this unique key goes to how it is doing (GET_STATUS_UNIQUE).
    public func status(unique: String, timeout: Duration? = nil) async throws -> GearmanJobStatus {
        let reply = try await perform(.statusUnique(unique: unique), routingKey: unique, timeout: timeout)
        guard case .status(let status) = reply else { throw GearmanError.protocolViolation("unexpected \(reply)") }
        return status
    }

    /// Sends ECHO_REQ to every server and returns those that answered it, in the order of ``servers``.
    public func reachableServers(timeout: Duration = .seconds(5)) async -> [GearmanServerAddress] {
        let answered = await withTaskGroup(of: GearmanServerAddress?.self) { group in
            for connection in connections {
                group.addTask {
                    let reply = try? await self.perform(
                        .echo(ByteBuffer(string: "ping")), on: connection, timeout: timeout)
                    return reply == .echo(ByteBuffer(string: "ping")) ? connection.address : nil
                }
            }
            return await group.reduce(into: Set<GearmanServerAddress>()) { answered, address in
                if let address { answered.insert(address) }
            }
        }
        return servers.filter(answered.contains)
    }

    @available(*, deprecated, message: "use reachableServers(timeout:).count")
    public func ping(timeout: Duration = .seconds(5)) async -> Int {
        await reachableServers(timeout: timeout).count
    }

    // MARK: Internals

    private static func job(
        _ function: String, _ workload: ByteBuffer, _ unique: String?, _ priority: GearmanPriority, background: Bool
    ) -> GearmanSubmitJob {
        GearmanSubmitJob(
            function: ByteBuffer(string: function), unique: ByteBuffer(string: unique ?? ""), workload: workload,
            priority: priority, isBackground: background)
    }

    private func perform(
        _ payload: ClientRequest, routingKey: String?, timeout: Duration?
    ) async throws -> ClientReply {
        try await performAnywhere(payload, routingKey: routingKey, timeout: timeout).reply
    }

    /// Sends the request to the server `routingKey` picks. When that connection is lost before the server
    /// acknowledged the request (no JOB_CREATED, no reply), nothing was accepted there that could still
    /// complete, so it is sent to the next server; once acknowledged, a lost connection is the caller's error.
    private func performAnywhere(
        _ payload: ClientRequest, routingKey: String?, timeout: Duration?
    ) async throws -> (reply: ClientReply, server: GearmanServerAddress) {
        var lost: Set<GearmanServerAddress> = []
        while true {
            let connection = try await pickConnection(routingKey: routingKey, avoiding: lost)
            do {
                return (try await perform(payload, on: connection, timeout: timeout), connection.address)
            } catch let unacknowledged as Unacknowledged where lost.count + 1 < connections.count {
                lost.insert(unacknowledged.server)
            } catch let unacknowledged as Unacknowledged {
                throw GearmanError.connectionLost(server: unacknowledged.server)
            }
        }
    }

    /// The connection to `server` was lost before the server acknowledged the request.
    private struct Unacknowledged: Error {
        let server: GearmanServerAddress
    }

    private func perform(
        _ payload: ClientRequest, on connection: ServerConnection, timeout: Duration?
    ) async throws -> ClientReply {
        let channel = try await connection.channel()
        let request = PendingRequest(server: connection.address)
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    guard request.install(continuation) else { return }
                    send(request, payload, timeout: timeout, on: channel)
                }
            } onCancel: {
                if request.cancel() {
                    channel.writeAndFlush(ClientCommand.cancel(request), promise: nil)
                }
            }
        } catch let error as GearmanError where error.code == .connectionLost && !request.isAcknowledged {
            throw Unacknowledged(server: error.server ?? request.server)
        }
    }

    private func send(
        _ request: PendingRequest, _ payload: ClientRequest, timeout: Duration?,
        on channel: any Channel
    ) {
        let command = ClientCommand.send(request, payload, timeout: timeout.map(TimeAmount.init))
        channel.writeAndFlush(command).whenFailure { _ in
            // The channel closed before the handler saw the request.
            request.settle(.failure(GearmanError.connectionLost(server: request.server)))
        }
    }

    /// The server for a job: by unique key when there is one, else round-robin; down servers are skipped,
    /// and tried again only when every server is down; servers in `lost` are not tried at all.
    private func pickConnection(
        routingKey: String?, avoiding lost: Set<GearmanServerAddress> = []
    ) async throws -> ServerConnection {
        let count = connections.count
        let start: Int
        if let routingKey, !routingKey.isEmpty {
            start = Int(Self.fnv1a(routingKey) % UInt64(count))
        } else if count == 1 {
            start = 0
        } else {
            start = roundRobin.withLockedValue { next in
                defer { next = (next + 1) % count }
                return next
            }
        }
        let now = NIODeadline.now()
        var skipped: [ServerConnection] = []
        var lastError: (any Error)?
        for offset in 0..<count {
            let connection = connections[(start + offset) % count]
            if lost.contains(connection.address) { continue }
            if connection.isDown(at: now) {
                skipped.append(connection)
                continue
            }
            do {
                _ = try await connection.channel()
                return connection
            } catch let error as GearmanError where error.code == .shutDown {
                throw error
            } catch {
                lastError = error
            }
        }
        for connection in skipped {
            do {
                _ = try await connection.channel()
                return connection
            } catch {
                lastError = error
            }
        }
        throw GearmanError.noServerAvailable(reason: lastError.map { "\($0)" } ?? "no servers")
    }

    /// A hash that is the same in every process, unlike `Hasher`.
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
