import Foundation
import GearboxDashboard
import GearboxMetrics
import GearmanServer
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// The operator port's HTTP API over real HTTP (HummingbirdTesting's live server), with a stand-in job
/// server behind the `OperatorView`.
@Suite struct DashboardAPITests {
    static let changeHeader: HTTPFields = [OperatorRoutes.requestHeader: "1"]
    static let formHeaders: HTTPFields = [
        OperatorRoutes.requestHeader: "1", .contentType: "application/x-www-form-urlencoded",
    ]

    /// Serves the operator routes over `view` on a live port for the length of `test`.
    static func serving(
        _ view: OperatorView, _ test: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let router = Router(context: OperatorRequestContext.self)
        OperatorRoutes(view: view).register(on: router)
        try await Application(router: router).test(.live, test)
    }

    struct Count: Decodable {
        var count: Int
    }

    struct ErrorBody: Decodable {
        var error: String
    }

    struct JobStatus: Decodable {
        var handle: String
        var function: String
        var unique: String
        var state: String
        var attempts: Int
        var lastError: String?
        var due: Int64?
        var completed: Int64?
        var expires: Int64?
        var resultBytes: Int?
        var resultBase64: String?

        enum CodingKeys: String, CodingKey {
            case handle, function, unique, state, attempts, due, completed, expires
            case lastError = "last_error"
            case resultBytes = "result_bytes"
            case resultBase64 = "result_base64"
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(response.body.readableBytesView))
    }

    @Test func theOverviewDecodesBackToWhatTheViewAnswered() async throws {
        let server = StandInServer()
        try await Self.serving(server.view()) { client in
            let response = try await client.execute(uri: "/api/overview", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            #expect(response.headers[.cacheControl] == "no-store")
            let overview = try Self.decode(OperatorOverview.self, response)
            // The live client connects from 127.0.0.1, which the stand-in lets change state.
            #expect(overview == server.overview(limit: 200, filter: nil, mayChangeState: true))
            #expect(overview.functions.map(\.name) == ["resize", "thumbnail", StandInServer.scriptName])
            #expect(overview.dead.count == 2 && overview.group?.count == 2)
        }
        #expect(server.overviewRequests.first == .init(limit: 200, filter: nil, mayChangeState: true))
    }

    @Test func theFilterAndTheLimitReachTheView() async throws {
        let server = StandInServer()
        try await Self.serving(server.view()) { client in
            let filtered = try await client.execute(uri: "/api/overview?limit=1&filter=t+th%75mb", method: .get)
            #expect(filtered.status == .ok)
            let overview = try Self.decode(OperatorOverview.self, filtered)
            #expect(overview.functions.map(\.name) == [])
            let one = try Self.decode(
                OperatorOverview.self, try await client.execute(uri: "/api/overview?limit=1&filter=e", method: .get))
            #expect(one.functions.map(\.name) == ["resize"] && one.functionsTotal == 2)
            _ = try await client.execute(uri: "/api/overview?limit=99999999&filter=", method: .get)
            _ = try await client.execute(uri: "/api/overview?limit=-5", method: .get)
            let bad = try await client.execute(uri: "/api/overview?limit=many", method: .get)
            #expect(bad.status == .badRequest)
        }
        #expect(
            server.overviewRequests.map { "\($0.limit) \($0.filter ?? "nil")" } == [
                "1 t thumb", "1 e", "10000 nil", "0 nil",
            ])
    }

    @Test func theOverviewIs503UntilTheViewIsAttached() async throws {
        try await Self.serving(OperatorView()) { client in
            let response = try await client.execute(uri: "/api/overview", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(try Self.decode(ErrorBody.self, response).error.isEmpty == false)
        }
    }

    @Test func aJobAnswersItsStatusAndKeptResult() async throws {
        let server = StandInServer()
        try await Self.serving(server.view()) { client in
            let response = try await client.execute(uri: "/api/jobs/H:stand-in:1", method: .get)
            #expect(response.status == .ok)
            let job = try Self.decode(JobStatus.self, response)
            #expect(job.handle == "H:stand-in:1" && job.function == "resize" && job.unique == "photo-1")
            #expect(job.state == "completed" && job.attempts == 0 && job.lastError == nil && job.due == nil)
            #expect(job.completed == StandInServer.now - 10 && job.expires == StandInServer.now + 3_590)
            #expect(job.resultBytes == StandInServer.keptResult.count)
            #expect(job.resultBase64.flatMap { Data(base64Encoded: $0) } == Data(StandInServer.keptResult))
            // Absent fields are there, as null.
            let keys = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
            #expect(keys?["due"] is NSNull && keys?["last_error"] is NSNull)

            let raw = try await client.execute(uri: "/api/jobs/H%3Astand-in%3A1/result", method: .get)
            #expect(raw.status == .ok)
            #expect(raw.headers[.contentType] == "application/octet-stream")
            #expect(Array(raw.body.readableBytesView) == StandInServer.keptResult)

            let queued = try Self.decode(
                JobStatus.self, try await client.execute(uri: "/api/jobs/H:stand-in:2", method: .get))
            #expect(queued.state == "queued" && queued.lastError == "worker went away")
            #expect(queued.resultBytes == nil && queued.resultBase64 == nil)
            let noResult = try await client.execute(uri: "/api/jobs/H:stand-in:2/result", method: .get)
            #expect(noResult.status == .notFound)

            let unknown = try await client.execute(uri: "/api/jobs/H:stand-in:999", method: .get)
            #expect(unknown.status == .notFound)
            #expect(try Self.decode(ErrorBody.self, unknown).error == "no such job")
            let unknownResult = try await client.execute(uri: "/api/jobs/H:stand-in:999/result", method: .get)
            #expect(unknownResult.status == .notFound)
        }
    }

    @Test func retryAndPurgeNeedTheRequestHeader() async throws {
        let server = StandInServer()
        try await Self.serving(server.view()) { client in
            for action in ["retry", "purge"] {
                let response = try await client.execute(
                    uri: "/api/dead/\(action)?function=resize", method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"])
                #expect(response.status == .forbidden)
                #expect(try Self.decode(ErrorBody.self, response).error.contains("X-Gearbox-Request"))
            }
        }
        #expect(server.retries.isEmpty && server.purges.isEmpty && server.deadHandles.count == 2)
    }

    @Test func retryAndPurgeAreRefusedToAnAddressThatMayNotChangeState() async throws {
        let server = StandInServer(mayChangeState: false)
        try await Self.serving(server.view()) { client in
            for action in ["retry", "purge"] {
                let response = try await client.execute(
                    uri: "/api/dead/\(action)?function=resize", method: .post, headers: Self.changeHeader)
                #expect(response.status == .forbidden)
            }
            let overview = try Self.decode(
                OperatorOverview.self, try await client.execute(uri: "/api/overview", method: .get))
            #expect(overview.server.mayChangeState == false)
        }
        #expect(server.retries.isEmpty && server.purges.isEmpty && server.deadHandles.count == 2)
    }

    @Test func retryQueuesADeadLetterAgainAndPurgeDropsOne() async throws {
        let server = StandInServer()
        try await Self.serving(server.view()) { client in
            let missing = try await client.execute(uri: "/api/dead/retry", method: .post, headers: Self.changeHeader)
            #expect(missing.status == .badRequest)

            // Form fields, percent-encoded as a browser's URLSearchParams sends them.
            let retried = try await client.execute(
                uri: "/api/dead/retry", method: .post, headers: Self.formHeaders,
                body: ByteBuffer(string: "function=resize&handle=H%3Astand-in%3A41"))
            #expect(retried.status == .ok)
            #expect(try Self.decode(Count.self, retried).count == 1)
            #expect(server.queued("resize") == [0, 1_201, 3])

            // Query parameters; every dead letter of the function.
            let function = StandInServer.scriptName.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let purged = try await client.execute(
                uri: "/api/dead/purge?function=\(function)", method: .post, headers: Self.changeHeader)
            #expect(purged.status == .ok)
            #expect(try Self.decode(Count.self, purged).count == 1)
        }
        #expect(server.retries == [.init(function: "resize", handle: "H:stand-in:41")])
        #expect(server.purges == [.init(function: StandInServer.scriptName, handle: nil)])
        #expect(server.deadHandles.isEmpty)
    }

    @Test func thePageIsLockedToItsOwnFilesAndNamesNoOtherSite() async throws {
        try await Self.serving(StandInServer().view()) { client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let policy = try #require(page.headers[.contentSecurityPolicy])
            #expect(policy.contains("default-src 'self'") && policy.contains("script-src 'self'"))
            #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            #expect(page.headers[.cacheControl] == "no-store")
            let html = String(buffer: page.body)
            #expect(html.contains(#"<script src="/dashboard.js" defer></script>"#))
            #expect(!html.contains("<script>") && !html.contains("style="))
            for id in ["functions", "workers", "scheduled", "dead", "group", "filter", "status"] {
                #expect(html.contains(#"id="\#(id)""#), "no #\(id)")
            }

            for (path, type) in [
                ("/", "text/html"), ("/dashboard.js", "text/javascript"), ("/dashboard.css", "text/css"),
            ] {
                let file = try await client.execute(uri: path, method: .get)
                #expect(file.status == .ok)
                #expect(file.headers[.contentType]?.hasPrefix(type) == true)
                #expect(file.headers[.contentSecurityPolicy] == policy)
                let text = String(buffer: file.body)
                #expect(!text.contains("http://") && !text.contains("https://"), "\(path) names another site")
            }
            let script = String(buffer: try await client.execute(uri: "/dashboard.js", method: .get).body)
            #expect(!script.contains("innerHTML") && !script.contains("eval("))
        }
    }

    @Test func metricsAreServedWhenAnExpositionIsGiven() async throws {
        let scrapes = NIOLockedValueBox(0)
        let router = Router(context: OperatorRequestContext.self)
        OperatorRoutes(
            view: StandInServer().view(), exposition: PrometheusExposition(),
            beforeScrape: { scrapes.withLockedValue { $0 += 1 } }
        ).register(on: router)
        try await Application(router: router).test(.live) { client in
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
        }
        #expect(scrapes.withLockedValue { $0 } == 1)
        try await Self.serving(StandInServer().view()) { client in
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .notFound)
        }
    }

    /// Not a timing test: the figures are printed, nothing is asserted about them. The stand-in's own overview
    /// (filtering and sorting 10,000 functions) is timed apart from the whole request.
    @Test func anOverviewOf10000FunctionsIsCutToTheLimit() async throws {
        let server = StandInServer(functionCount: 10_000)
        try await Self.serving(server.view()) { client in
            for limit in [200, 10_000] {
                let viewStarted = ContinuousClock.now
                _ = server.overview(limit: limit, filter: nil, mayChangeState: true)
                let viewTime = ContinuousClock.now - viewStarted
                let started = ContinuousClock.now
                let response = try await client.execute(uri: "/api/overview?limit=\(limit)", method: .get)
                let requestTime = ContinuousClock.now - started
                let overview = try Self.decode(OperatorOverview.self, response)
                #expect(overview.functions.count == limit && overview.functionsTotal == 10_000)
                print(
                    "GET /api/overview?limit=\(limit) at 10,000 functions: \(response.body.readableBytes) bytes, "
                        + "request \(requestTime.formatted(.units(allowed: [.milliseconds]))), "
                        + "of which the stand-in's overview \(viewTime.formatted(.units(allowed: [.milliseconds])))")
            }
        }
    }
}
