import NIOConcurrencyHelpers

/// The operator's window into a running job server, for the dashboard and its API: what it holds, one job by
/// handle, and the dead-letter commands. Made by whoever serves the dashboard, passed in
/// `GearmanServerConfiguration.operatorView`, and connected by the server when it binds (as `ServerMetrics`
/// is); until then it answers as a server with nothing in it.
public final class OperatorView: Sendable {
    /// What a bound server answers with.
    public struct Source: Sendable {
        public var overview: @Sendable (_ limit: Int, _ filter: String?, _ mayChangeState: Bool) -> OperatorOverview
        public var job: @Sendable (_ handle: String) -> JobReport?
        /// Queues dead letters again (one, or every one of `function`); answers how many.
        public var retryDead: @Sendable (_ function: String, _ handle: String?) -> Int
        public var purgeDead: @Sendable (_ function: String, _ handle: String?) -> Int
        /// Whether a peer at this address may change state (`--admin-allow`).
        public var mayChangeState: @Sendable (_ address: String) -> Bool

        public init(
            overview: @escaping @Sendable (Int, String?, Bool) -> OperatorOverview,
            job: @escaping @Sendable (String) -> JobReport?,
            retryDead: @escaping @Sendable (String, String?) -> Int,
            purgeDead: @escaping @Sendable (String, String?) -> Int,
            mayChangeState: @escaping @Sendable (String) -> Bool
        ) {
            self.overview = overview
            self.job = job
            self.retryDead = retryDead
            self.purgeDead = purgeDead
            self.mayChangeState = mayChangeState
        }
    }

    private let source = NIOLockedValueBox<Source?>(nil)

    public init() {}

    /// Connects the view to a server (done by `GearmanJobServer.bind`), or to a stand-in in tests.
    public func attach(_ newSource: Source) {
        source.withLockedValue { $0 = newSource }
    }

    private var current: Source? { source.withLockedValue { $0 } }

    public func overview(limit: Int, filter: String?, mayChangeState: Bool) -> OperatorOverview? {
        current?.overview(limit, filter, mayChangeState)
    }

    public func job(handle: String) -> JobReport? {
        current?.job(handle)
    }

    public func retryDead(function: String, handle: String?) -> Int {
        current?.retryDead(function, handle) ?? 0
    }

    public func purgeDead(function: String, handle: String?) -> Int {
        current?.purgeDead(function, handle) ?? 0
    }

    public func mayChangeState(address: String) -> Bool {
        current?.mayChangeState(address) ?? false
    }
}
