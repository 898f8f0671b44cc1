import GearmanProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The client's one connection to one server: connected on first use, shared by every caller, reconnected
/// after it closes. A server that refused a connection is marked down for a growing while.
final class ServerConnection: @unchecked Sendable {
    private enum State {
        case idle
        case connecting(EventLoopFuture<any Channel>)
        case connected(any Channel)
        case down(until: NIODeadline, failures: Int)
        case shutDown
    }

    let address: GearmanServerAddress
    private let group: any EventLoopGroup
    private let logger: Logger
    private let lock = NIOLock()
    private var state = State.idle
    private var failures = 0

    init(address: GearmanServerAddress, group: any EventLoopGroup, logger: Logger) {
        self.address = address
        self.group = group
        self.logger = logger
    }

    /// Whether the server failed recently and its backoff has not expired.
    func isDown(at now: NIODeadline) -> Bool {
        lock.withLock {
            if case .down(let until, _) = state { return until > now }
            return false
        }
    }

    func channel() async throws -> any Channel {
        enum Next {
            case ready(any Channel)
            case wait(EventLoopFuture<any Channel>)
            case connect(EventLoopPromise<any Channel>)
        }
        let next: Next = try lock.withLock {
            switch state {
            case .connected(let channel) where channel.isActive:
                return .ready(channel)
            case .connecting(let future):
                return .wait(future)
            case .shutDown:
                throw GearmanError.shutDown
            case .idle, .connected, .down:
                let promise = group.next().makePromise(of: (any Channel).self)
                state = .connecting(promise.futureResult)
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

    func shutdown() async {
        let channel: (any Channel)? = lock.withLock {
            defer { state = .shutDown }
            if case .connected(let channel) = state { return channel }
            return nil
        }
        try? await channel?.close()
    }

    /// Closes the connection without waiting, as the client goes away.
    func close() {
        let channel: (any Channel)? = lock.withLock {
            defer { state = .shutDown }
            if case .connected(let channel) = state { return channel }
            return nil
        }
        channel?.close(promise: nil)
    }

    private func connect(completing promise: EventLoopPromise<any Channel>) {
        let address = self.address
        let logger = self.logger
        ClientBootstrap(group: promise.futureResult.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(GearmanFrameDecoder()),
                        ClientChannelHandler(server: address, logger: logger))
                }
            }
            .connect(host: address.host, port: address.port)
            .whenComplete { result in
                let outcome: Result<any Channel, any Error> = self.lock.withLock {
                    switch (self.state, result) {
                    case (.shutDown, .success(let channel)):
                        channel.close(promise: nil)
                        return .failure(GearmanError.shutDown)
                    case (.shutDown, .failure):
                        return .failure(GearmanError.shutDown)
                    case (_, .success(let channel)):
                        self.failures = 0
                        self.state = .connected(channel)
                        return .success(channel)
                    case (_, .failure(let error)):
                        self.failures += 1
                        let delay = Backoff.delay(afterFailures: self.failures)
                        logger.debug(
                            "server down",
                            metadata: ["server": "\(address)", "error": "\(error)", "retry_in": "\(delay)"])
                        self.state = .down(until: .now() + delay, failures: self.failures)
                        return .failure(error)
                    }
                }
                // Outside the lock: on a closed channel's own loop the callback runs at once.
                if case .success(let channel) = outcome {
                    channel.closeFuture.whenComplete { _ in
                        self.lock.withLock {
                            if case .connected(let current) = self.state, current === channel {
                                self.state = .idle
                            }
                        }
                    }
                }
                promise.completeWith(outcome)
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
