import GearmanServer
import NIOConcurrencyHelpers
import NIOCore

/// A job server in miniature behind an `OperatorView`, in place of the real engine: functions with queued
/// counts, workers, scheduled jobs, dead letters and a few jobs by handle. Retrying a dead letter queues it
/// again at normal priority; every overview request, retry and purge is recorded for the tests to read.
final class StandInServer: Sendable {
    /// A function name that must show as text, never run.
    static let scriptName = "<script>alert(1)</script>"
    static let keptResult: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF] + Array("done".utf8)
    static let now: Int64 = 1_760_000_000

    struct OverviewRequest: Equatable {
        var limit: Int
        var filter: String?
        var mayChangeState: Bool
    }

    struct Change: Equatable {
        var function: String
        var handle: String?
    }

    private struct Model {
        var functions: [OperatorOverview.Function]
        var workers: [OperatorOverview.Worker] = []
        var scheduled: [OperatorOverview.ScheduledJob] = []
        var dead: [OperatorOverview.DeadLetter] = []
        var jobs: [String: JobReport] = [:]
        var mayChangeState: Bool
        var overviewRequests: [OverviewRequest] = []
        var retries: [Change] = []
        var purges: [Change] = []
    }

    private let model: NIOLockedValueBox<Model>

    /// Three functions (one named `scriptName`), two workers, two scheduled jobs, two dead letters, a completed
    /// job with a kept result and a queued one.
    init(mayChangeState: Bool = true) {
        var model = Model(
            functions: [
                Self.function("resize", queued: [0, 1_200, 3]),
                Self.function("thumbnail", queued: [2, 40, 0]),
                Self.function(Self.scriptName, queued: [0, 7, 0]),
            ],
            mayChangeState: mayChangeState)
        model.workers = [
            OperatorOverview.Worker(
                id: 1, address: "10.0.0.5:51544", clientID: "farm-a", tlsName: "worker-a.internal",
                functions: ["resize", "thumbnail"], running: 2),
            OperatorOverview.Worker(
                id: 2, address: "10.0.0.6:40022", clientID: "-", tlsName: nil, functions: [Self.scriptName],
                running: 0),
        ]
        model.scheduled = [
            OperatorOverview.ScheduledJob(
                handle: "H:stand-in:77", function: "resize", unique: "nightly", due: Self.now + 3_600, attempts: 0),
            OperatorOverview.ScheduledJob(
                handle: "H:stand-in:78", function: "thumbnail", unique: "retry-me", due: Self.now + 42, attempts: 2),
        ]
        model.dead = [
            OperatorOverview.DeadLetter(
                handle: "H:stand-in:41", function: "resize", unique: "photo-17", attempts: 3,
                error: "vips: <b>bad</b> JPEG marker", firstFailed: Self.now - 900, lastFailed: Self.now - 300),
            OperatorOverview.DeadLetter(
                handle: "H:stand-in:42", function: Self.scriptName, unique: "u-42", attempts: 5,
                error: "timed out after 30 s", firstFailed: Self.now - 5_000, lastFailed: Self.now - 60),
        ]
        let completed = JobReport(
            handle: "H:stand-in:1", function: "resize", unique: "photo-1", state: .completed, attempts: 0,
            completed: Self.now - 10, expires: Self.now + 3_590, result: ByteBuffer(bytes: Self.keptResult))
        let queued = JobReport(
            handle: "H:stand-in:2", function: "thumbnail", unique: "photo-2", state: .queued, attempts: 1,
            lastError: "worker went away")
        model.jobs = [completed.handle: completed, queued.handle: queued]
        self.model = NIOLockedValueBox(model)
    }

    /// `functionCount` functions (`function-0`, `function-1`, …) and nothing else.
    init(functionCount: Int) {
        let functions = (0..<functionCount).map { index in
            Self.function("function-\(index)", queued: [index % 3, index % 100, 0])
        }
        model = NIOLockedValueBox(Model(functions: functions, mayChangeState: true))
    }

    private static func function(_ name: String, queued: [Int]) -> OperatorOverview.Function {
        OperatorOverview.Function(
            name: name, queued: queued, running: 1, workers: 2, scheduled: 0, dead: 0, submitted: 1_000,
            completed: 900, failed: 12, exceptions: 0, retried: 4,
            waitMilliseconds: OperatorOverview.Percentiles(p50: 0.5, p90: 4, p99: 16),
            runMilliseconds: OperatorOverview.Percentiles(p50: 128, p90: 512, p99: 2_048))
    }

    /// A view attached to this stand-in.
    func view() -> OperatorView {
        let view = OperatorView()
        view.attach(source)
        return view
    }

    var source: OperatorView.Source {
        OperatorView.Source(
            overview: { limit, filter, mayChangeState in
                self.overview(limit: limit, filter: filter, mayChangeState: mayChangeState)
            },
            job: { handle in self.model.withLockedValue { $0.jobs[handle] } },
            retryDead: { function, handle in self.retryDead(function: function, handle: handle) },
            purgeDead: { function, handle in self.purgeDead(function: function, handle: handle) },
            mayChangeState: { _ in self.model.withLockedValue { $0.mayChangeState } })
    }

    var overviewRequests: [OverviewRequest] { model.withLockedValue { $0.overviewRequests } }
    var retries: [Change] { model.withLockedValue { $0.retries } }
    var purges: [Change] { model.withLockedValue { $0.purges } }
    var deadHandles: [String] { model.withLockedValue { $0.dead.map(\.handle) } }

    func queued(_ function: String) -> [Int]? {
        model.withLockedValue { model in model.functions.first { $0.name == function }?.queued }
    }

    /// The overview as the real engine answers it: functions most queued first, then by name, each list cut
    /// to `limit`.
    func overview(limit: Int, filter: String?, mayChangeState: Bool) -> OperatorOverview {
        model.withLockedValue { model in
            model.overviewRequests.append(
                OverviewRequest(limit: limit, filter: filter, mayChangeState: mayChangeState))
            var functions = model.functions
            if let filter {
                functions = functions.filter { $0.name.contains(filter) }
            }
            let deadByFunction = Dictionary(grouping: model.dead, by: \.function).mapValues(\.count)
            for index in functions.indices {
                functions[index].dead = deadByFunction[functions[index].name] ?? 0
            }
            let shown = functions.sorted { left, right in
                let (leftQueued, rightQueued) = (left.queued.reduce(0, +), right.queued.reduce(0, +))
                return leftQueued != rightQueued ? leftQueued > rightQueued : left.name < right.name
            }.prefix(limit)
            return OperatorOverview(
                server: OperatorOverview.Server(
                    version: "0.0.0-test", handlePrefix: "H:stand-in", started: Self.now - 93_784, now: Self.now,
                    store: "sqlite:/tmp/stand-in.db", storeUnwritten: 12, storeTransactions: 4_411, storeFailure: nil,
                    connections: 17, mayChangeState: mayChangeState),
                functions: Array(shown), functionsTotal: functions.count,
                workers: Array(model.workers.prefix(limit)), workersTotal: model.workers.count,
                scheduled: Array(model.scheduled.prefix(limit)), scheduledTotal: model.scheduled.count,
                dead: Array(model.dead.prefix(limit)), deadTotal: model.dead.count,
                group: [
                    OperatorOverview.GroupServer(name: "gearbox-a", leaseLeftMilliseconds: 8_200, isThisServer: true),
                    OperatorOverview.GroupServer(name: "gearbox-b", leaseLeftMilliseconds: -3_100, isThisServer: false),
                ])
        }
    }

    private func retryDead(function: String, handle: String?) -> Int {
        model.withLockedValue { model in
            model.retries.append(Change(function: function, handle: handle))
            let matches = { (letter: OperatorOverview.DeadLetter) in
                letter.function == function && (handle == nil || letter.handle == handle)
            }
            let count = model.dead.filter(matches).count
            model.dead.removeAll(where: matches)
            if let index = model.functions.firstIndex(where: { $0.name == function }) {
                model.functions[index].queued[1] += count
            }
            return count
        }
    }

    private func purgeDead(function: String, handle: String?) -> Int {
        model.withLockedValue { model in
            model.purges.append(Change(function: function, handle: handle))
            let before = model.dead.count
            model.dead.removeAll { $0.function == function && (handle == nil || $0.handle == handle) }
            return before - model.dead.count
        }
    }
}
