import Crypto
import Foundation
import GearboxHooks
import GearmanServer
import Logging
import ServiceLifecycle
import TestSupport
import Testing

/// `--webhook` delivery against a real HTTP receiver in the test process.
@Suite struct WebhookDeliveryTests {
    static let logger: Logger = {
        var logger = Logger(label: "test.webhooks")
        logger.logLevel = .error
        return logger
    }()

    /// A background job's event; `n` numbers the job.
    static func event(
        _ n: Int, function: String = "resize", kind: JobEvent.Kind = .completed, attempt: Int = 1
    ) -> JobEvent {
        JobEvent(
            event: kind, function: function, handle: "H:test:\(n)", unique: "u-\(n)", attempt: attempt,
            error: kind == .completed ? nil : "worker said no", time: 1_700_000_000 + Int64(n),
            retryAt: kind == .retrying ? 1_700_000_100 + Int64(n) : nil)
    }

    /// Runs `delivery` in a service group, as the job server does.
    struct RunningDelivery {
        let group: ServiceGroup
        let running: Task<Void, any Error>

        init(_ delivery: WebhookDelivery) {
            let group = ServiceGroup(services: [delivery], logger: WebhookDeliveryTests.logger)
            self.group = group
            running = Task { try await group.run() }
        }

        func shutDown() async throws {
            await group.triggerGracefulShutdown()
            try await running.value
        }
    }

    /// Longer than any answer takes on a loaded machine, so that no attempt times out after the receiver had
    /// it and counts are exact; the default (10 s) is for receivers that hang.
    static let requestTimeout = Duration.seconds(60)

    @Test func postsEachEventAsSignedJSONToTheHooksThatMatchItsFunction() async throws {
        try await withDeadline(.seconds(60)) {
            let receiver = try WebhookReceiver()
            let listener = try await receiver.listen()
            let secret = Array("s3cret".utf8)
            let delivery = WebhookDelivery(
                configuration: WebhookConfiguration(
                    hooks: [
                        Webhook(url: receiver.url("all")), Webhook(url: receiver.url("resize"), function: "resize"),
                    ],
                    secret: secret, requestTimeout: Self.requestTimeout),
                logger: Self.logger)
            let running = RunningDelivery(delivery)
            let events = [
                Self.event(1), Self.event(2, function: "crop", kind: .failed), Self.event(3, kind: .retrying),
                Self.event(4, kind: .dead, attempt: 3),
            ]
            for event in events { delivery.post(event) }
            try await waitUntil("seven deliveries", timeout: .seconds(30)) { delivery.pending == 0 }
            try await running.shutDown()
            try await listener.stop()

            // At least once: on a loaded machine an attempt may time out after the receiver had it, and come
            // again; the first arrivals are in order and every event came.
            let all = Self.firstRequests(receiver.requests(to: "all"))
            #expect(try all.map { try $0.event() } == events)
            #expect(
                try Self.firstRequests(receiver.requests(to: "resize")).map { try $0.event() }
                    == events.filter { $0.function == "resize" })
            #expect(delivery.counts.delivered == 7)

            for (request, event) in zip(all, events) {
                let key = SymmetricKey(data: secret)
                let code = HMAC<SHA256>.authenticationCode(for: request.body, using: key)
                let hex = code.map { String(format: "%02x", $0) }.joined()
                #expect(request.headers["x-gearbox-signature"] == "sha256=\(hex)")
                #expect(WebhookDelivery.signature(of: request.body, secret: secret) == "sha256=\(hex)")
                #expect(request.headers["content-type"] == "application/json")
                #expect(request.headers["user-agent"]?.hasPrefix("gearbox/") == true)
                #expect(request.headers["x-gearbox-event"] == event.event.rawValue)
                #expect(request.headers["x-gearbox-delivery"] == WebhookDelivery.deliveryID(of: event))
                #expect(request.body == (try WebhookDelivery.body(of: event)))
            }
            let failed = try #require(
                JSONSerialization.jsonObject(with: Data(all[1].body)) as? [String: Any])
            #expect(
                Set(failed.keys) == ["event", "function", "handle", "unique", "attempt", "error", "time"])
            #expect(failed["event"] as? String == "failed")
            #expect(failed["function"] as? String == "crop")
            #expect(failed["handle"] as? String == "H:test:2")
            #expect(failed["unique"] as? String == "u-2")
            #expect(failed["attempt"] as? Int == 1)
            #expect(failed["error"] as? String == "worker said no")
            #expect(failed["time"] as? Int == 1_700_000_002)
            let retrying = try #require(JSONSerialization.jsonObject(with: Data(all[2].body)) as? [String: Any])
            #expect(retrying["retry_at"] as? Int == 1_700_000_103)
            #expect(String(decoding: all[0].body, as: UTF8.self).hasPrefix("{\"attempt\":1,\"event\":\"completed\""))
        }
    }

    @Test func unsignedWithoutASecret() async throws {
        try await withDeadline(.seconds(60)) {
            let receiver = try WebhookReceiver()
            let listener = try await receiver.listen()
            let delivery = WebhookDelivery(
                configuration: WebhookConfiguration(
                    hooks: [Webhook(url: receiver.url("all"))], requestTimeout: Self.requestTimeout),
                logger: Self.logger)
            let running = RunningDelivery(delivery)
            delivery.post(Self.event(1))
            try await waitUntil("a delivery", timeout: .seconds(30)) { receiver.requests.count == 1 }
            try await running.shutDown()
            try await listener.stop()
            #expect(receiver.requests[0].headers["x-gearbox-signature"] == nil)
        }
    }

    @Test func retriesAfterServerErrorsUntilTheReceiverAccepts() async throws {
        try await withDeadline(.seconds(60)) {
            let receiver = try WebhookReceiver(answeringFirst: [
                .internalServerError, .internalServerError, .badGateway,
            ])
            let listener = try await receiver.listen()
            let delivery = WebhookDelivery(
                configuration: WebhookConfiguration(
                    hooks: [Webhook(url: receiver.url("all"))], minimumBackoff: .milliseconds(50),
                    maximumBackoff: .milliseconds(200), requestTimeout: Self.requestTimeout),
                logger: Self.logger)
            let running = RunningDelivery(delivery)
            let event = Self.event(1, kind: .dead)
            delivery.post(event)
            try await waitUntil("a delivery", timeout: .seconds(30)) { delivery.counts.delivered == 1 }
            try await running.shutDown()
            try await listener.stop()
            #expect(delivery.counts == WebhookDeliveryCounts(delivered: 1, failedAttempts: 3))
            #expect(
                receiver.requests.map(\.deliveryID) == Array(repeating: WebhookDelivery.deliveryID(of: event), count: 4)
            )
        }
    }

    @Test func eventsPostedFromManyTasksAtOnceAreAllDeliveredInTheOrderEachPostedThem() async throws {
        try await withDeadline(.seconds(120)) {
            let receiver = try WebhookReceiver()
            let listener = try await receiver.listen()
            let delivery = WebhookDelivery(
                configuration: WebhookConfiguration(
                    hooks: [Webhook(url: receiver.url("all"))], requestTimeout: Self.requestTimeout),
                logger: Self.logger)
            let running = RunningDelivery(delivery)
            let posters = 8
            let eventsEach = 200
            await withTaskGroup(of: Void.self) { group in
                for poster in 0..<posters {
                    group.addTask {
                        for n in 0..<eventsEach {
                            delivery.post(Self.event(poster * eventsEach + n, function: "poster-\(poster)"))
                        }
                    }
                }
            }
            try await waitUntil("every event", timeout: .seconds(90)) { delivery.pending == 0 }
            try await running.shutDown()
            try await listener.stop()
            let received = try receiver.requests.map { try $0.event() }
            #expect(received.count == posters * eventsEach)
            for poster in 0..<posters {
                let handles = received.filter { $0.function == "poster-\(poster)" }.map(\.handle)
                #expect(handles == (0..<eventsEach).map { "H:test:\(poster * eventsEach + $0)" })
            }
        }
    }

    /// The promise: a receiver that is down for a minute loses nothing.
    @Test func aReceiverDownForAMinuteLosesNothing() async throws {
        try await withDeadline(.seconds(150)) {
            let receiver = try WebhookReceiver()
            var listener = try await receiver.listen()
            let delivery = WebhookDelivery(
                configuration: WebhookConfiguration(
                    hooks: [
                        Webhook(url: receiver.url("all")), Webhook(url: receiver.url("resize"), function: "resize"),
                    ],
                    minimumBackoff: .milliseconds(100), maximumBackoff: .seconds(2), requestTimeout: Self.requestTimeout
                ),
                logger: Self.logger)
            let running = RunningDelivery(delivery)
            var events: [JobEvent] = []
            func post(_ event: JobEvent) {
                events.append(event)
                delivery.post(event)
            }
            for n in 1...4 {
                post(Self.event(n, function: n.isMultiple(of: 2) ? "crop" : "resize"))
            }
            try await waitUntil("the first events", timeout: .seconds(30)) { delivery.pending == 0 }

            try await listener.stop()
            let downSince = ContinuousClock.now
            var n = 5
            while ContinuousClock.now - downSince < .seconds(60) {
                post(Self.event(n, function: n.isMultiple(of: 2) ? "crop" : "resize", kind: .failed))
                n += 1
                try await Task.sleep(for: .seconds(5))
            }
            let whileDown = delivery.counts
            #expect(whileDown.pending > events.count - 4)
            #expect(whileDown.failedAttempts > 5)
            #expect(whileDown.dropped == 0)

            listener = try await receiver.listen()
            let backUp = ContinuousClock.now
            let expected = (
                all: events.map(WebhookDelivery.deliveryID(of:)),
                resize: events.filter { $0.function == "resize" }.map(WebhookDelivery.deliveryID(of:))
            )
            try await waitUntil("every event after the receiver came back", timeout: .seconds(30)) {
                Set(receiver.requests(to: "all").map(\.deliveryID)).isSuperset(of: expected.all)
                    && Set(receiver.requests(to: "resize").map(\.deliveryID)).isSuperset(of: expected.resize)
            }
            let caughtUp = ContinuousClock.now - backUp
            try await running.shutDown()
            try await listener.stop()

            #expect(Self.firstArrivals(receiver.requests(to: "all")) == expected.all)
            #expect(Self.firstArrivals(receiver.requests(to: "resize")) == expected.resize)
            #expect(delivery.pending == 0)
            print("webhook: every event delivered \(caughtUp) after the receiver came back")
        }
    }

    /// The requests that first brought each delivery id, in their order.
    static func firstRequests(_ requests: [WebhookReceiver.Request]) -> [WebhookReceiver.Request] {
        var seen: Set<String> = []
        return requests.filter { seen.insert($0.deliveryID).inserted }
    }

    /// Delivery ids in the order they first arrived: at least once allows a repeat, but not a reordering.
    static func firstArrivals(_ requests: [WebhookReceiver.Request]) -> [String] {
        var seen: Set<String> = []
        return requests.map(\.deliveryID).filter { seen.insert($0).inserted }
    }

    @Test func aFullOutboxDropsTheOldestEvents() async throws {
        try await withDeadline(.seconds(60)) {
            let receiver = try WebhookReceiver()
            let delivery = WebhookDelivery(
                configuration: WebhookConfiguration(
                    hooks: [Webhook(url: receiver.url("all"))], outboxCapacity: 3, requestTimeout: Self.requestTimeout),
                logger: Self.logger)
            let events = (1...5).map { Self.event($0) }
            for event in events { delivery.post(event) }
            #expect(delivery.counts == WebhookDeliveryCounts(dropped: 2, pending: 3))

            let listener = try await receiver.listen()
            let running = RunningDelivery(delivery)
            try await waitUntil("the kept events", timeout: .seconds(30)) { delivery.pending == 0 }
            try await running.shutDown()
            try await listener.stop()
            #expect(receiver.requests.map(\.deliveryID) == events.suffix(3).map(WebhookDelivery.deliveryID(of:)))
            #expect(delivery.counts == WebhookDeliveryCounts(delivered: 3, dropped: 2))
        }
    }

    @Test func runReturnsPromptlyOnGracefulShutdownWhileAReceiverIsDown() async throws {
        try await withDeadline(.seconds(60)) {
            let receiver = try WebhookReceiver()
            let delivery = WebhookDelivery(
                configuration: WebhookConfiguration(
                    hooks: [Webhook(url: receiver.url("all"))], minimumBackoff: .seconds(600),
                    maximumBackoff: .seconds(600), shutdownTimeout: .seconds(1)),
                logger: Self.logger)
            let running = RunningDelivery(delivery)
            delivery.post(Self.event(1))
            try await waitUntil("a failed attempt", timeout: .seconds(30)) { delivery.counts.failedAttempts == 1 }
            let shutdownStarted = ContinuousClock.now
            try await running.shutDown()
            let shutdown = ContinuousClock.now - shutdownStarted
            // Not a timing claim: far below the 10-minute backoff, so run() did not wait it out.
            #expect(shutdown < .seconds(45), "run() took \(shutdown) to return")
            #expect(delivery.counts == WebhookDeliveryCounts(failedAttempts: 2, pending: 1))
        }
    }

    @Test func gracefulShutdownMakesOneLastAttemptAtWhatIsQueued() async throws {
        try await withDeadline(.seconds(60)) {
            let receiver = try WebhookReceiver()
            let delivery = WebhookDelivery(
                configuration: WebhookConfiguration(
                    hooks: [Webhook(url: receiver.url("all"))], minimumBackoff: .seconds(600),
                    maximumBackoff: .seconds(600), requestTimeout: Self.requestTimeout, shutdownTimeout: .seconds(30)),
                logger: Self.logger)
            let running = RunningDelivery(delivery)
            let events = (1...3).map { Self.event($0) }
            for event in events { delivery.post(event) }
            try await waitUntil("a failed attempt", timeout: .seconds(30)) { delivery.counts.failedAttempts == 1 }
            let listener = try await receiver.listen()
            let shutdownStarted = ContinuousClock.now
            try await running.shutDown()
            let shutdown = ContinuousClock.now - shutdownStarted
            try await listener.stop()
            // The last pass delivered at once rather than after the 10-minute backoff.
            #expect(shutdown < .seconds(45), "run() took \(shutdown) to return")
            #expect(receiver.requests.map(\.deliveryID) == events.map(WebhookDelivery.deliveryID(of:)))
            #expect(delivery.counts == WebhookDeliveryCounts(delivered: 3, failedAttempts: 1))
        }
    }

    @Test func readsWebhookArguments() throws {
        #expect(try Webhook.parse("http://127.0.0.1:8080/hooks") == Webhook(url: "http://127.0.0.1:8080/hooks"))
        #expect(try Webhook.parse("https://example.com/h?a=b") == Webhook(url: "https://example.com/h?a=b"))
        #expect(
            try Webhook.parse("resize=https://example.com/h?a=b")
                == Webhook(url: "https://example.com/h?a=b", function: "resize"))
        for refused in ["resize", "=http://example.com/", "resize=ftp://example.com/", "resize=http://", "resize=", ""]
        {
            let error = #expect(throws: WebhookConfigurationError.self, "\(refused)") { try Webhook.parse(refused) }
            #expect(error?.reason.contains("--webhook") == true)
        }
    }

    @Test func readsTheSecretFileWithoutItsLineBreak() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("webhook-secret-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func secret(in contents: String) throws -> [UInt8] {
            let file = folder.appendingPathComponent("secret")
            try contents.write(to: file, atomically: true, encoding: .utf8)
            return try WebhookConfiguration.readSecret(atPath: file.path)
        }
        #expect(try secret(in: "s3cret\n") == Array("s3cret".utf8))
        #expect(try secret(in: "s3cret\r\n") == Array("s3cret".utf8))
        #expect(try secret(in: "two words") == Array("two words".utf8))
        #expect(throws: WebhookConfigurationError.self) { try secret(in: "") }
        #expect(throws: WebhookConfigurationError.self) { try secret(in: "\n") }
        #expect(throws: WebhookConfigurationError.self) {
            try WebhookConfiguration.readSecret(atPath: folder.appendingPathComponent("missing").path)
        }
    }
}
