/// What the operator's dashboard shows, as `GET /api/overview` answers it: the server, its functions, its
/// workers, scheduled jobs, dead letters and its store group. Long lists are cut to `limit` rows; the
/// `…Total` fields say how many there were.
public struct OperatorOverview: Sendable, Hashable, Codable {
    public struct Server: Sendable, Hashable, Codable {
        public var version: String
        public var handlePrefix: String
        /// Unix times.
        public var started: Int64
        public var now: Int64
        /// `memory`, `sqlite:PATH` or the PostgreSQL address without its password.
        public var store: String
        /// Rows handed to the store and not yet committed.
        public var storeUnwritten: Int
        public var storeTransactions: Int
        public var storeFailure: String?
        public var connections: Int
        /// Whether the asker may retry and purge dead letters (the admin access rules).
        public var mayChangeState: Bool

        public init(
            version: String, handlePrefix: String, started: Int64, now: Int64, store: String, storeUnwritten: Int,
            storeTransactions: Int, storeFailure: String?, connections: Int, mayChangeState: Bool
        ) {
            self.version = version
            self.handlePrefix = handlePrefix
            self.started = started
            self.now = now
            self.store = store
            self.storeUnwritten = storeUnwritten
            self.storeTransactions = storeTransactions
            self.storeFailure = storeFailure
            self.connections = connections
            self.mayChangeState = mayChangeState
        }

        enum CodingKeys: String, CodingKey {
            case version, started, now, store, connections
            case handlePrefix = "handle_prefix"
            case storeUnwritten = "store_unwritten"
            case storeTransactions = "store_transactions"
            case storeFailure = "store_failure"
            case mayChangeState = "may_change_state"
        }
    }

    /// Milliseconds at the 50th, 90th and 99th percentiles, from buckets a power of two wide: each figure is
    /// the upper bound of its bucket.
    public struct Percentiles: Sendable, Hashable, Codable {
        public var p50: Double
        public var p90: Double
        public var p99: Double

        public init(p50: Double, p90: Double, p99: Double) {
            self.p50 = p50
            self.p90 = p90
            self.p99 = p99
        }
    }

    public struct Function: Sendable, Hashable, Codable {
        public var name: String
        /// Queued at high, normal and low priority.
        public var queued: [Int]
        public var running: Int
        public var workers: Int
        /// Waiting for their time: SUBMIT_JOB_EPOCH jobs and retries in their backoff.
        public var scheduled: Int
        public var dead: Int
        /// Counts since the server started; the page turns them into rates.
        public var submitted: Int
        public var completed: Int
        public var failed: Int
        public var exceptions: Int
        public var retried: Int
        /// Nil until a job of the function waited (or ran), and without `--metrics-port`.
        public var waitMilliseconds: Percentiles?
        public var runMilliseconds: Percentiles?

        public init(
            name: String, queued: [Int], running: Int, workers: Int, scheduled: Int, dead: Int, submitted: Int,
            completed: Int, failed: Int, exceptions: Int, retried: Int, waitMilliseconds: Percentiles?,
            runMilliseconds: Percentiles?
        ) {
            self.name = name
            self.queued = queued
            self.running = running
            self.workers = workers
            self.scheduled = scheduled
            self.dead = dead
            self.submitted = submitted
            self.completed = completed
            self.failed = failed
            self.exceptions = exceptions
            self.retried = retried
            self.waitMilliseconds = waitMilliseconds
            self.runMilliseconds = runMilliseconds
        }

        enum CodingKeys: String, CodingKey {
            case name, queued, running, workers, scheduled, dead, submitted, completed, failed, exceptions, retried
            case waitMilliseconds = "wait_ms"
            case runMilliseconds = "run_ms"
        }
    }

    public struct Worker: Sendable, Hashable, Codable {
        public var id: UInt64
        public var address: String
        /// SET_CLIENT_ID, `-` when none was given.
        public var clientID: String
        /// The common name of its verified TLS client certificate.
        public var tlsName: String?
        public var functions: [String]
        public var running: Int

        public init(id: UInt64, address: String, clientID: String, tlsName: String?, functions: [String], running: Int)
        {
            self.id = id
            self.address = address
            self.clientID = clientID
            self.tlsName = tlsName
            self.functions = functions
            self.running = running
        }

        enum CodingKeys: String, CodingKey {
            case id, address, functions, running
            case clientID = "client_id"
            case tlsName = "tls_name"
        }
    }

    public struct ScheduledJob: Sendable, Hashable, Codable {
        public var handle: String
        public var function: String
        public var unique: String
        /// Unix time it runs at.
        public var due: Int64
        /// Failed attempts so far: more than 0 for a retry in its backoff.
        public var attempts: Int

        public init(handle: String, function: String, unique: String, due: Int64, attempts: Int) {
            self.handle = handle
            self.function = function
            self.unique = unique
            self.due = due
            self.attempts = attempts
        }
    }

    public struct DeadLetter: Sendable, Hashable, Codable {
        public var handle: String
        public var function: String
        public var unique: String
        public var attempts: Int
        public var error: String
        /// Unix times of its first and last failed attempts.
        public var firstFailed: Int64
        public var lastFailed: Int64

        public init(
            handle: String, function: String, unique: String, attempts: Int, error: String, firstFailed: Int64,
            lastFailed: Int64
        ) {
            self.handle = handle
            self.function = function
            self.unique = unique
            self.attempts = attempts
            self.error = error
            self.firstFailed = firstFailed
            self.lastFailed = lastFailed
        }

        enum CodingKeys: String, CodingKey {
            case handle, function, unique, attempts, error
            case firstFailed = "first_failed"
            case lastFailed = "last_failed"
        }
    }

    /// One server of a PostgreSQL group, as the store last saw it.
    public struct GroupServer: Sendable, Hashable, Codable {
        public var name: String
        /// Milliseconds its lease has left; negative once expired.
        public var leaseLeftMilliseconds: Int64
        public var isThisServer: Bool

        public init(name: String, leaseLeftMilliseconds: Int64, isThisServer: Bool) {
            self.name = name
            self.leaseLeftMilliseconds = leaseLeftMilliseconds
            self.isThisServer = isThisServer
        }

        enum CodingKeys: String, CodingKey {
            case name
            case leaseLeftMilliseconds = "lease_left_ms"
            case isThisServer = "this_server"
        }
    }

    public var server: Server
    /// Most queued first, then by name.
    public var functions: [Function]
    public var functionsTotal: Int
    public var workers: [Worker]
    public var workersTotal: Int
    /// Soonest first.
    public var scheduled: [ScheduledJob]
    public var scheduledTotal: Int
    /// Most recent failure first.
    public var dead: [DeadLetter]
    public var deadTotal: Int
    /// Nil outside a PostgreSQL group.
    public var group: [GroupServer]?

    public init(
        server: Server, functions: [Function], functionsTotal: Int, workers: [Worker], workersTotal: Int,
        scheduled: [ScheduledJob], scheduledTotal: Int, dead: [DeadLetter], deadTotal: Int, group: [GroupServer]?
    ) {
        self.server = server
        self.functions = functions
        self.functionsTotal = functionsTotal
        self.workers = workers
        self.workersTotal = workersTotal
        self.scheduled = scheduled
        self.scheduledTotal = scheduledTotal
        self.dead = dead
        self.deadTotal = deadTotal
        self.group = group
    }

    enum CodingKeys: String, CodingKey {
        case server, functions, workers, scheduled, dead, group
        case functionsTotal = "functions_total"
        case workersTotal = "workers_total"
        case scheduledTotal = "scheduled_total"
        case deadTotal = "dead_total"
    }
}
