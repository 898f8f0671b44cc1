import AsyncHTTPClient
import CoreMetrics
import GearmanServer
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// Delivers background jobs' events to the `--webhook` receivers: each a POST of the event's JSON, signed when
/// there is a secret (see `WebhookDelivery+Request.swift`).
///
/// - ``post(_:)`` only queues: it takes a lock, appends to the outbox and wakes the senders. Encoding, signing
///   and HTTP happen in ``run()``, away from the engine.
/// - Each distinct URL has its own queue and sender: it gets its events in the order they were posted, and a
///   receiver that is down holds back only its own. An event goes once to each URL that a matching hook names.
/// - Delivery is at least once. An attempt fails on a connection error, on no full answer within
///   `requestTimeout`, or on a status other than 2xx; it is repeated after ``WebhookBackoff``'s wait, for as long
///   as the event stays in the outbox. Receivers de-duplicate by `X-Gearbox-Delivery`.
/// - The outbox holds `outboxCapacity` events for all URLs together. When it is full, posting drops the oldest
///   (whichever URL it waits for) instead of blocking the engine or refusing the newest event: a receiver that
///   was down long enough to fill it has lost events either way, and the latest are those an operator acts on.
///   Drops are counted, and logged once per burst. An event dropped while it was being sent counts as
///   delivered too if that request succeeds.
/// - On graceful shutdown the senders stop, and each URL's queue gets one more pass, in order, up to its first
///   failure and within `shutdownTimeout`; what is still queued then is logged and lost.
public final class WebhookDelivery: Service, Sendable {
    public let configuration: WebhookConfiguration
    private let targets: [WebhookTarget]
    private let outbox: NIOLockedValueBox<WebhookOutbox>
    private let wakeUps: [AsyncStream<Void>.Continuation]
    private let wakeUpSignals: [AsyncStream<Void>]
    private let dropBursts: AsyncStream<Void>
    private let dropBurstBegan: AsyncStream<Void>.Continuation
    private let hasRun = NIOLockedValueBox(false)
    private let backoff: WebhookBackoff
    private let metrics: WebhookMetrics
    private let logger: Logger

    public init(configuration: WebhookConfiguration, metrics factory: (any MetricsFactory)? = nil, logger: Logger) {
        self.configuration = configuration
        targets = WebhookTarget.targets(for: configuration.hooks)
        outbox = NIOLockedValueBox(WebhookOutbox(capacity: configuration.outboxCapacity, targets: targets.count))
        let signals = targets.map { _ in AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1)) }
        wakeUps = signals.map(\.continuation)
        wakeUpSignals = signals.map(\.stream)
        (dropBursts, dropBurstBegan) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        backoff = WebhookBackoff(minimum: configuration.minimumBackoff, maximum: configuration.maximumBackoff)
        metrics = WebhookMetrics(factory: factory ?? MetricsSystem.factory)
        self.logger = logger
    }

    /// Queues `event` for every URL whose hooks match its function. Never blocks on I/O: it may be called on
    /// an event loop, under the caller's locks.
    public func post(_ event: JobEvent) {
        post(PendingJobEvent(event))
    }

    /// Queues the event for every URL whose hooks match its function, and calls its `finished()` once every
    /// one of them has it, or it was dropped (at once when no hook matches).
    public func post(_ pending: PendingJobEvent) {
        var matching: [Int] = []
        for index in targets.indices where targets[index].accepts(pending.event) {
            matching.append(index)
        }
        guard !matching.isEmpty else {
            pending.finished()
            return
        }
        let (dropped, beginsBurst, finished) = outbox.withLockedValue { outbox in
            let result = outbox.append(pending, to: matching)
            metrics.outbox.record(outbox.count)
            return result
        }
        for event in finished { event.finished() }
        if dropped > 0 { metrics.dropped.increment(by: dropped) }
        if beginsBurst { dropBurstBegan.yield() }
        for index in matching {
            wakeUps[index].yield()
        }
    }

    /// Events waiting for delivery, including those being sent.
    public var pending: Int {
        outbox.withLockedValue { $0.count }
    }

    public var counts: WebhookDeliveryCounts {
        outbox.withLockedValue { $0.counts }
    }

    /// Delivers until graceful shutdown, then makes one last pass over what is queued. Call it once.
    public func run() async throws {
        let isFirstRun = hasRun.withLockedValue { hasRun in
            defer { hasRun = true }
            return !hasRun
        }
        precondition(isFirstRun, "WebhookDelivery.run() is called once")
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration)
        logger.info("delivering job events", metadata: ["webhook.urls": "\(targets.map(\.url))"])
        await cancelWhenGracefulShutdown {
            await self.deliverUntilCancelled(client: client)
        }
        if !Task.isCancelled {
            await deliverQueuedOnce(client: client)
        }
        let undelivered = pending
        if undelivered > 0 {
            logger.warning(
                "job events left undelivered at shutdown", metadata: ["webhook.undelivered": "\(undelivered)"])
        }
        try await client.shutdown()
    }

    private var clientConfiguration: HTTPClient.Configuration {
        var client = HTTPClient.Configuration()
        client.redirectConfiguration = .disallow
        let timeout = TimeAmount(configuration.requestTimeout)
        client.timeout = HTTPClient.Configuration.Timeout(connect: timeout, read: timeout)
        // A refused connection fails the attempt at once, to be retried after this type's backoff, instead of
        // being retried inside the client until the request's deadline.
        client.connectionPool.retryConnectionEstablishment = false
        return client
    }

    private func deliverUntilCancelled(client: HTTPClient) async {
        await withTaskGroup(of: Void.self) { group in
            for index in targets.indices {
                group.addTask { await self.sendInOrder(to: index, client: client) }
            }
            group.addTask { await self.reportDropBursts() }
        }
    }

    /// Sends target `index`'s queue head first, waiting out a backoff after each failed attempt, until cancelled.
    private func sendInOrder(to index: Int, client: HTTPClient) async {
        let url = targets[index].url
        var wakeUpSignal = wakeUpSignals[index].makeAsyncIterator()
        var failures = 0
        while !Task.isCancelled {
            guard let entry = outbox.withLockedValue({ $0.first(of: index) }) else {
                guard await wakeUpSignal.next() != nil else { return }
                continue
            }
            let deadline = NIODeadline.now() + TimeAmount(configuration.requestTimeout)
            guard let failure = await send(entry, to: index, client: client, deadline: deadline) else {
                if failures > 0 {
                    logger.info(
                        "webhook receiver is back",
                        metadata: ["webhook.url": "\(url)", "webhook.failed_attempts": "\(failures)"])
                }
                failures = 0
                continue
            }
            if Task.isCancelled { return }
            recordFailure()
            failures += 1
            let delay = backoff.delay(afterFailures: failures)
            let metadata: Logger.Metadata = [
                "webhook.url": "\(url)", "webhook.error": "\(failure)", "webhook.retry_in": "\(delay)",
                "webhook.failed_attempts": "\(failures)", "webhook.pending": "\(pending)",
            ]
            if failures == 1 {
                logger.warning("webhook delivery failed; retrying", metadata: metadata)
            } else {
                logger.debug("webhook delivery failed again", metadata: metadata)
            }
            try? await Task.sleep(for: delay)
        }
    }

    /// After the senders have stopped: each target's queue in order, up to its first failure, within
    /// `shutdownTimeout`.
    private func deliverQueuedOnce(client: HTTPClient) async {
        let deadline = NIODeadline.now() + TimeAmount(configuration.shutdownTimeout)
        await withTaskGroup(of: Void.self) { group in
            for index in targets.indices {
                group.addTask { await self.deliverQueued(to: index, client: client, before: deadline) }
            }
        }
    }

    private func deliverQueued(to index: Int, client: HTTPClient, before deadline: NIODeadline) async {
        let requestTimeout = TimeAmount(configuration.requestTimeout)
        while NIODeadline.now() < deadline, let entry = outbox.withLockedValue({ $0.first(of: index) }) {
            let requestDeadline = min(deadline, NIODeadline.now() + requestTimeout)
            guard let failure = await send(entry, to: index, client: client, deadline: requestDeadline) else {
                continue
            }
            recordFailure()
            logger.warning(
                "webhook delivery failed at shutdown",
                metadata: ["webhook.url": "\(targets[index].url)", "webhook.error": "\(failure)"])
            return
        }
    }

    /// POSTs `entry` and records a delivery; returns why the attempt failed, or nil when it was delivered.
    private func send(
        _ entry: WebhookOutbox.Entry, to index: Int, client: HTTPClient, deadline: NIODeadline
    ) async -> String? {
        do {
            let request = try Self.request(for: entry.event, to: targets[index].url, secret: configuration.secret)
            let response = try await client.execute(request, deadline: deadline)
            for try await _ in response.body {}
            guard (200..<300).contains(response.status.code) else {
                return "HTTP status \(response.status.code)"
            }
        } catch {
            return "\(error)"
        }
        let finished = outbox.withLockedValue { outbox in
            defer { metrics.outbox.record(outbox.count) }
            return outbox.delivered(entry, to: index)
        }
        finished?.finished()
        metrics.deliveries.increment()
        return nil
    }

    private func recordFailure() {
        outbox.withLockedValue { $0.countFailedAttempt() }
        metrics.failures.increment()
    }

    private func reportDropBursts() async {
        for await _ in dropBursts {
            logger.warning(
                "webhook outbox is full: dropping its oldest events",
                metadata: [
                    "webhook.dropped": "\(counts.dropped)", "webhook.capacity": "\(configuration.outboxCapacity)",
                ])
        }
    }
}
