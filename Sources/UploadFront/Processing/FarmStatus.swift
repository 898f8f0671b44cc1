import Gearman
import NIOConcurrencyHelpers
import NIOSSL

/// Whether the job servers answer and have a worker for the image function, from the admin `status` table
/// (which Gearbox and gearmand both write as `function\ttotal\trunning\tavailable_workers`). Answers are
/// cached for a moment so that a burst of uploads does not become a burst of admin connections.
public final class FarmStatus: Sendable {
    public struct Server: Sendable, Hashable, Codable {
        public var address: String
        public var reachable: Bool
        /// Workers that can run the function on this server.
        public var workers: Int
        /// Jobs for the function queued or running on this server.
        public var jobs: Int
        public var error: String?
        /// It took the connection but its answer did not come within the query's deadline: the question is
        /// open, since a server on a busy machine can be slow to answer and still have its workers.
        public var late: Bool
    }

    public struct Report: Sendable, Hashable, Codable {
        public var function: String
        public var servers: [Server]
        /// A server answered that a worker for the function is attached to it.
        public var ready: Bool { servers.contains { $0.reachable && $0.workers > 0 } }
        /// Jobs submitted now may be run: a server has a worker, or one was too slow to say. Work is
        /// refused early only on evidence (every server refused the connection or has no worker); a
        /// slow server's jobs are left to their own deadline.
        public var mayTakeJobs: Bool { ready || servers.contains(where: \.late) }

        /// Why `mayTakeJobs` is false, server by server.
        public var refusal: String {
            let reasons = servers.map { server in
                server.reachable
                    ? "\(server.address) has no worker for it"
                    : "\(server.address) did not answer (\(server.error ?? "no reply"))"
            }
            return "no worker for '\(function)' is attached to the job servers: " + reasons.joined(separator: "; ")
        }
    }

    public let servers: [GearmanServerAddress]
    public let function: String
    private let cacheFor: Duration
    private let tls: NIOSSLContext?
    private let cache = NIOLockedValueBox<(report: Report, at: ContinuousClock.Instant)?>(nil)

    public init(
        servers: [GearmanServerAddress], function: String, tls: NIOSSLContext? = nil,
        cacheFor: Duration = .milliseconds(500)
    ) {
        self.servers = servers
        self.tls = tls
        self.function = function
        self.cacheFor = cacheFor
    }

    /// The servers' state now, or as of at most `cacheFor` ago.
    public func report(fresh: Bool = false) async -> Report {
        let now = ContinuousClock.now
        if !fresh, let cached = cache.withLockedValue({ $0 }), now - cached.at < cacheFor {
            return cached.report
        }
        let servers = await withTaskGroup(of: (Int, Server).self) { group in
            for (index, address) in self.servers.enumerated() {
                group.addTask { (index, await Self.query(address, function: self.function, tls: self.tls)) }
            }
            var servers = [Server?](repeating: nil, count: self.servers.count)
            for await (index, server) in group { servers[index] = server }
            return servers.compactMap { $0 }
        }
        let report = Report(function: function, servers: servers)
        cache.withLockedValue { $0 = (report, now) }
        return report
    }

    private static func query(_ address: GearmanServerAddress, function: String, tls: NIOSSLContext?) async -> Server {
        do {
            let text = try await GearmanAdminClient(server: address, tls: tls).send("status", timeout: .seconds(2))
            let row = parseStatus(text)[function]
            return Server(
                address: "\(address)", reachable: true, workers: row?.workers ?? 0, jobs: row?.total ?? 0, error: nil,
                late: false)
        } catch {
            let late = (error as? GearmanError)?.code == .timeout
            return Server(
                address: "\(address)", reachable: false, workers: 0, jobs: 0, error: "\(error)", late: late)
        }
    }

    /// `function -> (total, running, workers)` from the admin `status` table.
    public static func parseStatus(_ text: String) -> [String: (total: Int, running: Int, workers: Int)] {
        var rows: [String: (total: Int, running: Int, workers: Int)] = [:]
        for line in text.split(whereSeparator: \.isNewline) where line != "." {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 4, let total = Int(fields[1]), let running = Int(fields[2]),
                let workers = Int(fields[3])
            else { continue }
            rows[String(fields[0])] = (total, running, workers)
        }
        return rows
    }
}
