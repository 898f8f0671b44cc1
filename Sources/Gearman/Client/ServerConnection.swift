import GearmanProtocol
import GearmanTLS
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The client's one connection to one server: connected on first use, shared by every caller, reconnected
/// after it closes. A server that refused a connection is marked down for a growing while.
final class ServerConnection: Sendable {
    private enum Phase {
        case idle
        case connecting(EventLoopFuture<any Channel>)
        case connected(any Channel)
        case down(until: NIODeadline)
        case shutDown
    }

    private struct State {
        var phase = Phase.idle
        var failures = 0
    }

    let address: GearmanServerAddress
    private let group: any EventLoopGroup
    private let logger: Logger
    private let tls: NIOSSLContext?
    private let state = NIOLockedValueBox(State())

    init(address: GearmanServerAddress, group: any EventLoopGroup, tls: NIOSSLContext?, logger: Logger) {
        self.tls = tls
        self.address = address
        self.group = group
        self.logger = logger
    }

    /// Whether the server failed recently and its backoff has not expired.
    func isDown(at now: NIODeadline) -> Bool {
        state.withLockedValue {
            if case .down(let until) = $0.phase { return until > now }
            return false
        }
    }

    /// The connected channel, connecting first when there is none. Gives up after the connect timeout.
    func channel() async throws -> any Channel {
        enum Next {
            case ready(any Channel)
            case wait(EventLoopFuture<any Channel>)
            case connect(EventLoopPromise<any Channel>)
        }
        let next: Next = try state.withLockedValue { state in
            switch state.phase {
            case .connected(let channel) where channel.isActive:
                return .ready(channel)
            case .connecting(let future):
                return .wait(future)
            case .shutDown:
                throw GearmanError.shutDown
            case .idle, .connected, .down:
                let promise = group.next().makePromise(of: (any Channel).self)
                state.phase = .connecting(promise.futureResult)
                return .connect(promise)
            }
        }
        switch next {
        case .ready(let channel):
            return channel
        case .wait(let future):
            return try await future.get()
        case .connect(let promise):
            connect(completing: promise)
            return try await promise.futureResult.get()
        }
    }

    /// Closes the connection and refuses new callers; callers still waiting get `connectionLost`.
    func shutdown() async {
        try? await takeChannelForShutdown()?.close()
    }

    /// Closes the connection without waiting, as the client goes away.
    func close() {
        takeChannelForShutdown()?.close(promise: nil)
    }

    private func takeChannelForShutdown() -> (any Channel)? {
        state.withLockedValue { state in
            defer { state.phase = .shutDown }
            if case .connected(let channel) = state.phase { return channel }
            return nil
        }
    }

    private func connect(completing promise: EventLoopPromise<any Channel>) {
        let address = self.address
        let logger = self.logger
        let tls = self.tls
        // The handshake is kept from the moment it starts: a failed one takes its reason away with the
        // connection's handlers.
        let handshake = NIOLockedValueBox<EventLoopFuture<Void>?>(nil)
        ClientBootstrap(group: promise.futureResult.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .deadPeerDetection(.default)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        let started = try channel.pipeline.syncOperations.addGearmanTLSClient(
                            context: tls, host: address.host)
                        handshake.withLockedValue { $0 = started }
                    }
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(GearmanFrameDecoder()),
                        ClientChannelHandler(server: address, logger: logger))
                }
            }
            .connect(host: address.host, port: address.port)
            .flatMap { channel in
                (handshake.withLockedValue { $0 } ?? channel.eventLoop.makeSucceededVoidFuture()).map { channel }
            }
            .whenComplete { result in
                let (outcome, backoff) = self.connected(result)
                // Outside the lock: closing, and a closed channel's callbacks, may run at once on this thread.
                switch outcome {
                case .success(let channel):
                    channel.closeFuture.whenComplete { _ in self.forget(channel) }
                case .failure(let error as GearmanError) where error.code == .shutDown:
                    if case .success(let channel) = result { channel.close(promise: nil) }
                case .failure(let error):
                    logger.debug(
                        "server down",
                        metadata: [
                            "gearman.server": "\(address)", "gearman.error": "\(error)",
                            "gearman.retryIn": "\(backoff.map { "\($0)" } ?? "-")",
                        ])
                }
                promise.completeWith(outcome)
            }
    }

    /// Records the outcome of a connect; a failure also returns how long the server is now skipped.
    private func connected(
        _ result: Result<any Channel, any Error>
    ) -> (Result<any Channel, any Error>, backoff: TimeAmount?) {
        state.withLockedValue { state in
            if case .shutDown = state.phase {
                return (.failure(GearmanError.shutDown), nil)
            }
            switch result {
            case .success(let channel):
                state.failures = 0
                state.phase = .connected(channel)
                return (.success(channel), nil)
            case .failure(let error):
                state.failures += 1
                let delay = Backoff.delay(afterFailures: state.failures)
                state.phase = .down(until: .now() + delay)
                return (.failure(error), delay)
            }
        }
    }

    private func forget(_ channel: any Channel) {
        state.withLockedValue { state in
            if case .connected(let current) = state.phase, current === channel {
                state.phase = .idle
            }
        }
    }
}

enum Backoff {
    /// 100 ms doubling to at most 10 s.
    static func delay(afterFailures failures: Int) -> TimeAmount {
        let exponent = min(max(failures - 1, 0), 7)
        return .milliseconds(min(100 << exponent, 10_000))
    }
}
