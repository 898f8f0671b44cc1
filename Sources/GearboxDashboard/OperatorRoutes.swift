import Foundation
import GearboxMetrics
import GearmanServer
import Hummingbird
import NIOCore

/// The operator port's routes over an `OperatorView`:
///
/// - `GET /`, `/dashboard.js`, `/dashboard.css`: the dashboard.
/// - `GET /api/overview?limit=N&filter=TEXT`: `OperatorOverview` as JSON; 503 until the view is attached.
/// - `GET /api/jobs/{handle}`: one job (`JobStatusBody`); `GET /api/jobs/{handle}/result`: its kept result.
/// - `POST /api/dead/retry`, `POST /api/dead/purge`: fields `function` and optionally `handle`, from the
///   query or a form body; answers `{"count": N}`.
/// - `GET /metrics`, when an exposition is given.
///
/// Retry and purge need the `X-Gearbox-Request: 1` header, which a page of another site cannot send without
/// a CORS preflight that this port never grants, and a peer address the admin access rules let change state.
public struct OperatorRoutes: Sendable {
    public static let defaultLimit = 200
    public static let maximumLimit = 10_000
    public static let requestHeader = HTTPFields.Element.Name("X-Gearbox-Request")!

    public let view: OperatorView
    public let exposition: PrometheusExposition?
    private let beforeScrape: @Sendable () -> Void

    public init(
        view: OperatorView, exposition: PrometheusExposition? = nil, beforeScrape: @escaping @Sendable () -> Void = {}
    ) {
        self.view = view
        self.exposition = exposition
        self.beforeScrape = beforeScrape
    }

    public func register<Context: RemoteAddressRequestContext>(on router: Router<Context>) {
        let page = ByteBuffer(string: DashboardPage.html)
        let script = ByteBuffer(string: DashboardScript.javaScript)
        let style = ByteBuffer(string: DashboardStyle.css)
        router.get("/") { _, _ in OperatorResponses.pageFile(page, contentType: "text/html; charset=utf-8") }
        router.get("/dashboard.js") { _, _ in
            OperatorResponses.pageFile(script, contentType: "text/javascript; charset=utf-8")
        }
        router.get("/dashboard.css") { _, _ in
            OperatorResponses.pageFile(style, contentType: "text/css; charset=utf-8")
        }
        router.get("/api/overview") { request, context in overview(request, peer: context.remoteAddress) }
        router.get("/api/jobs/{handle}") { _, context in job(handle: context.parameters.get("handle")) }
        router.get("/api/jobs/{handle}/result") { _, context in result(handle: context.parameters.get("handle")) }
        router.post("/api/dead/retry") { request, context in
            try await change(.retry, request, peer: context.remoteAddress)
        }
        router.post("/api/dead/purge") { request, context in
            try await change(.purge, request, peer: context.remoteAddress)
        }
        exposition?.register(on: router, beforeScrape: beforeScrape)
    }

    private func overview(_ request: Request, peer: SocketAddress?) -> Response {
        let query = FormFields(request.uri.query ?? "")
        var limit = Self.defaultLimit
        if let text = query["limit"] {
            guard let asked = Int(text) else {
                return OperatorResponses.error(.badRequest, "limit must be a whole number")
            }
            limit = min(max(asked, 0), Self.maximumLimit)
        }
        let filter = query["filter"].flatMap { $0.isEmpty ? nil : $0 }
        let mayChangeState = view.mayChangeState(address: Self.address(of: peer))
        guard let overview = view.overview(limit: limit, filter: filter, mayChangeState: mayChangeState) else {
            return OperatorResponses.error(.serviceUnavailable, "the job server has not started yet")
        }
        return OperatorResponses.json(overview)
    }

    private func job(handle: String?) -> Response {
        guard let report = report(handle: handle) else {
            return OperatorResponses.error(.notFound, "no such job")
        }
        return OperatorResponses.json(JobStatusBody(report: report))
    }

    private func result(handle: String?) -> Response {
        guard let report = report(handle: handle) else {
            return OperatorResponses.error(.notFound, "no such job")
        }
        guard let result = report.result else {
            return OperatorResponses.error(.notFound, "the job has no kept result")
        }
        return OperatorResponses.bytes(result, contentType: "application/octet-stream")
    }

    /// The router hands the path segment as it came, so a handle the page percent-encoded is decoded here.
    private func report(handle: String?) -> JobReport? {
        guard let handle, let decoded = handle.removingPercentEncoding else { return nil }
        return view.job(handle: decoded)
    }

    private func change(_ change: DeadLetterChange, _ request: Request, peer: SocketAddress?) async throws
        -> Response
    {
        guard request.headers[Self.requestHeader] == "1" else {
            return OperatorResponses.error(.forbidden, "\(change.rawValue) needs the header X-Gearbox-Request: 1")
        }
        guard view.mayChangeState(address: Self.address(of: peer)) else {
            return OperatorResponses.error(.forbidden, "this address may not change the server's state")
        }
        var fields = FormFields(request.uri.query ?? "")
        if request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
            let body = try await request.body.collect(upTo: 64 * 1024)
            fields = fields.overridden(by: FormFields(String(buffer: body)))
        }
        guard let function = fields["function"], !function.isEmpty else {
            return OperatorResponses.error(.badRequest, "function is required")
        }
        let handle = fields["handle"].flatMap { $0.isEmpty ? nil : $0 }
        let count =
            switch change {
            case .retry: view.retryDead(function: function, handle: handle)
            case .purge: view.purgeDead(function: function, handle: handle)
            }
        return OperatorResponses.json(["count": count])
    }

    /// The peer's IP address as text, which the admin access rules match; empty for a peer without one.
    private static func address(of peer: SocketAddress?) -> String {
        peer?.ipAddress ?? ""
    }
}
