import Foundation
import GearmanServer
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import TestSupport

/// A real HTTP server in the test process for webhooks: it records every POST to `/hooks/{name}`, answers the
/// first ones with the statuses it was given and the rest with 200, and can stop and listen again on its port.
final class WebhookReceiver: Sendable {
    struct Request: Sendable {
        var path: String
        /// Lower-cased names.
        var headers: [String: String]
        var body: [UInt8]

        var deliveryID: String { headers["x-gearbox-delivery"] ?? "" }

        func event() throws -> JobEvent {
            try JSONDecoder().decode(JobEvent.self, from: Data(body))
        }
    }

    /// One period of listening, until ``stop()``.
    struct Listener: Sendable {
        fileprivate let group: ServiceGroup
        fileprivate let running: Task<Void, any Error>

        func stop() async throws {
            await group.triggerGracefulShutdown()
            try await running.value
        }
    }

    private struct State {
        var requests: [Request] = []
        var statusesFirst: [HTTPResponse.Status]
    }

    let port: Int
    private let state: NIOLockedValueBox<State>
    private let logger: Logger

    init(answeringFirst statuses: [HTTPResponse.Status] = []) throws {
        port = try freePort()
        state = NIOLockedValueBox(State(statusesFirst: statuses))
        var logger = Logger(label: "test.webhook-receiver")
        logger.logLevel = .warning
        self.logger = logger
    }

    func url(_ name: String) -> String {
        "http://127.0.0.1:\(port)/hooks/\(name)"
    }

    var requests: [Request] {
        state.withLockedValue { $0.requests }
    }

    func requests(to name: String) -> [Request] {
        requests.filter { $0.path == "/hooks/\(name)" }
    }

    /// Returns once the server accepts connections.
    func listen() async throws -> Listener {
        let router = Router()
        router.post("/hooks/{name}") { [self] request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers {
                headers[field.name.canonicalName] = field.value
            }
            let status = record(Request(path: request.uri.path, headers: headers, body: Array(body.readableBytesView)))
            return Response(status: status)
        }
        let (started, startedContinuation) = AsyncStream.makeStream(of: Void.self)
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { _ in startedContinuation.yield() },
            logger: logger)
        let group = ServiceGroup(services: [application], logger: logger)
        let running = Task {
            defer { startedContinuation.finish() }
            try await group.run()
        }
        for await _ in started {
            return Listener(group: group, running: running)
        }
        try await running.value
        throw TestFailure("the webhook receiver stopped before listening on \(port)")
    }

    private func record(_ request: Request) -> HTTPResponse.Status {
        state.withLockedValue { state in
            state.requests.append(request)
            return state.statusesFirst.isEmpty ? .ok : state.statusesFirst.removeFirst()
        }
    }
}

/// Polls `condition` until it holds, or throws once `timeout` has passed.
func waitUntil(
    _ what: String, timeout: Duration, _ condition: @Sendable () -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TestFailure("\(what): not within \(timeout)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}
