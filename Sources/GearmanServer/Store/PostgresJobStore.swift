import GearmanProtocol
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// Background jobs in a PostgreSQL database that several servers share: a row per job, under the name of
/// the server that holds it.
///
/// Each server keeps a lease in `gearbox_servers`, renewed by `maintain`. Once a lease has expired, one live
/// server adopts the dead server's rows: it locks the dead server's row (`FOR UPDATE SKIP LOCKED`, so two
/// adopters cannot both win), renames and renumbers the rows into its own handle numbers in id order,
/// deletes the dead server's row and commits, and only then queues them. Every write of a server locks its
/// own row (`FOR SHARE`) and checks its incarnation in the same statement, so a server whose jobs were
/// adopted (it was paused, or cut off, past its lease) can neither add rows nor delete the adopter's.
///
/// All of it runs on the `StoreWriter`'s thread, which waits on postgres-nio's futures: every wait has a
/// deadline, after which the connection is closed and the operation fails. A lost connection is made
/// again with backoff; meanwhile writes fail at once, and their submitters get QUEUE_ERROR.
final class PostgresJobStore: JobStore {
    static let jobsTable = "gearbox_jobs"
    static let setAsideTable = "gearbox_jobs_set_aside"
    static let eventsTable = "gearbox_events"
    static let serversTable = "gearbox_servers"
    static let incarnations = "gearbox_incarnations"
    /// Any statement but an adoption.
    static let queryTimeout = TimeAmount.seconds(5)
    /// Renaming a dead server's rows, which may be millions.
    static let adoptionTimeout = TimeAmount.minutes(5)
    static let recoveryChunk = 4096
    /// Once `status` or `show servers` asks, the group's jobs are counted at each renewal for this long.
    static let countingWindow = TimeAmount.seconds(30)

    private enum Membership {
        case member(incarnation: Int64)
        /// Another process claimed this server's name: nothing is written until this one restarts.
        case nameTaken
    }

    private let address: PostgresStoreAddress
    private let serverName: String
    private let group: StoreGroupConfiguration
    private let logger: Logger
    private let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var connection: PostgresConnection?
    private var connections = 0
    private var reconnection = Backoff()
    private var membership = Membership.nameTaken
    private var countingUntil: NIODeadline?

    /// Waits between connection attempts: from 0.1 s, doubling, to 5 s.
    private struct Backoff {
        var delay = TimeAmount.milliseconds(100)
        var nextAttempt: NIODeadline?
        var lastFailure: String?

        mutating func failed(_ reason: String) {
            nextAttempt = .now() + delay
            delay = min(delay * 2, .seconds(5))
            lastFailure = reason
        }
    }

    init(address: PostgresStoreAddress, serverName: String, group: StoreGroupConfiguration, logger: Logger) throws {
        self.address = address
        self.serverName = serverName
        self.group = group
        self.logger = logger
        do {
            try createTables()
            try claimName()
        } catch {
            close()
            throw error
        }
    }

    var maintenanceInterval: TimeAmount? { group.leaseRenewal }

    // MARK: Membership

    /// Tables and sequence, made by the first server under an advisory lock (concurrent `CREATE ... IF NOT
    /// EXISTS` can collide).
    private func createTables() throws {
        try transaction {
            try run("SELECT pg_advisory_xact_lock(4730)")
            try run("CREATE SEQUENCE IF NOT EXISTS \(unescaped: Self.incarnations)")
            try run(
                """
                CREATE TABLE IF NOT EXISTS \(unescaped: Self.serversTable) (
                    name text PRIMARY KEY,
                    incarnation bigint NOT NULL,
                    lease_expires timestamptz NOT NULL,
                    renewed timestamptz NOT NULL,
                    started timestamptz NOT NULL
                )
                """)
            try run(
                """
                CREATE TABLE IF NOT EXISTS \(unescaped: Self.jobsTable) (
                    server text NOT NULL,
                    id bigint NOT NULL,
                    function bytea NOT NULL,
                    unique_key bytea NOT NULL,
                    priority smallint NOT NULL,
                    when_to_run bigint,
                    reducer bytea,
                    data bytea NOT NULL,
                    PRIMARY KEY (server, id)
                )
                """)
            try run(
                """
                CREATE TABLE IF NOT EXISTS \(unescaped: Self.eventsTable) (
                    server text NOT NULL,
                    id bigint NOT NULL,
                    event text NOT NULL,
                    function text NOT NULL,
                    handle text NOT NULL,
                    unique_key text NOT NULL,
                    attempt integer NOT NULL,
                    error text,
                    time bigint NOT NULL,
                    retry_at bigint,
                    PRIMARY KEY (server, id)
                )
                """)
            // Retries' progress, added to tables made before it was kept.
            try run(
                """
                ALTER TABLE \(unescaped: Self.jobsTable)
                    ADD COLUMN IF NOT EXISTS attempts integer NOT NULL DEFAULT 0,
                    ADD COLUMN IF NOT EXISTS last_error text,
                    ADD COLUMN IF NOT EXISTS first_failed bigint,
                    ADD COLUMN IF NOT EXISTS last_failed bigint,
                    ADD COLUMN IF NOT EXISTS dead boolean NOT NULL DEFAULT false
                """)
            try run(
                """
                CREATE TABLE IF NOT EXISTS \(unescaped: Self.setAsideTable) (
                    server text, id bigint, function bytea, unique_key bytea, priority smallint,
                    when_to_run bigint, reducer bytea, data bytea, reason text, set_aside_at timestamptz
                )
                """)
        }
    }

    /// Takes this server's name with a new incarnation. A name whose lease is still live was a process
    /// killed a moment ago, or another one running under the same name, which stops writing at its next
    /// renewal.
    private func claimName() throws {
        let previous = try run(
            "SELECT (extract(epoch FROM lease_expires - now()) * 1000)::int8 FROM \(unescaped: Self.serversTable) WHERE name = \(serverName)"
        ).rows.first.map { try $0.decode(Int64.self) }
        let claimed = try run(
            """
            INSERT INTO \(unescaped: Self.serversTable) (name, incarnation, lease_expires, renewed, started)
            VALUES (\(serverName), nextval('\(unescaped: Self.incarnations)'), now() + \(leaseMilliseconds) * interval '1 millisecond', now(), now())
            ON CONFLICT (name) DO UPDATE SET incarnation = excluded.incarnation, lease_expires = excluded.lease_expires,
                renewed = excluded.renewed, started = excluded.started
            RETURNING incarnation
            """)
        guard let row = claimed.rows.first else {
            throw PostgresStoreError("claiming the name \(serverName) returned nothing")
        }
        membership = .member(incarnation: try row.decode(Int64.self))
        if let previous, previous > 0 {
            logger.warning(
                "store: took over a server name whose lease was still live; another server running under it stops writing",
                metadata: ["store.server": "\(serverName)", "store.leaseLeftMilliseconds": "\(previous)"])
        }
    }

    /// The lease's length in milliseconds, for `now() + ... * interval '1 millisecond'`.
    private var leaseMilliseconds: Int64 {
        group.leaseExpiry.nanoseconds / 1_000_000
    }

    private func incarnation() throws -> Int64 {
        switch membership {
        case .member(let incarnation): return incarnation
        case .nameTaken:
            throw PostgresStoreError(
                "another server runs under this server's name \(serverName) in the store: give each its own --server-name"
            )
        }
    }

    // MARK: JobStore

    /// This server's undelivered events; those of a server that died wait for a server of its name.
    func recoverEvents() throws -> [StoredJobEvent] {
        let result = try run(
            """
            SELECT id, event, function, handle, unique_key, attempt, error, time, retry_at
            FROM \(unescaped: Self.eventsTable) WHERE server = \(serverName) ORDER BY id
            """, timeout: Self.adoptionTimeout)
        var events: [StoredJobEvent] = []
        for row in result.rows {
            let (id, kind, function, handle, unique, attempt, error, time, retryAt) = try row.decode(
                (Int64, String, String, String, String, Int32, String?, Int64, Int64?).self)
            guard let kind = JobEvent.Kind(rawValue: kind) else { continue }
            events.append(
                StoredJobEvent(
                    id: UInt64(bitPattern: id),
                    event: JobEvent(
                        event: kind, function: function, handle: handle, unique: unique, attempt: Int(attempt),
                        error: error, time: time, retryAt: retryAt)))
        }
        return events
    }

    func recover(_ restore: ([StoredJob]) -> Void) throws -> StoreRecovery {
        try read(idsAfter: 0, upTo: Int64.max, restore)
    }

    func write(
        inserting jobs: [StoredJob], updating updates: [StoredJob], deleting ids: [UInt64],
        events: [StoredJobEvent], eventsDelivered: [UInt64]
    ) throws {
        let incarnation = try incarnation()
        var inserts = jobs
        var deletes = ids
        // A job that ended in the same batch as its row was to be written needs neither: the statement
        // below deletes in the snapshot from before its own inserts.
        if !inserts.isEmpty, !deletes.isEmpty {
            let ended = Set(deletes)
            let written = Set(inserts.lazy.map(\.id))
            inserts.removeAll { ended.contains($0.id) }
            deletes.removeAll { written.contains($0) }
        }
        guard !inserts.isEmpty || !updates.isEmpty || !deletes.isEmpty || !events.isEmpty || !eventsDelivered.isEmpty
        else { return }
        var eventColumns = EventColumns(capacity: events.count)
        for event in events { eventColumns.append(event) }
        let deliveredIDs = eventsDelivered.map { Int64(bitPattern: $0) }
        var columns = InsertColumns(capacity: inserts.count)
        for job in inserts { columns.append(job) }
        var progress = ProgressColumns(capacity: updates.count)
        for job in updates { progress.append(job) }
        let deleteIDs = deletes.map { Int64(bitPattern: $0) }
        let result = try run(
            """
            WITH owner AS (
                SELECT name FROM \(unescaped: Self.serversTable)
                WHERE name = \(serverName) AND incarnation = \(incarnation) FOR SHARE
            ), inserted AS (
                INSERT INTO \(unescaped: Self.jobsTable) (server, id, function, unique_key, priority, when_to_run, reducer, data)
                SELECT owner.name, j.id, j.function, j.unique_key, j.priority,
                       CASE WHEN j.has_when THEN j.when_to_run END, CASE WHEN j.has_reducer THEN j.reducer END, j.data
                FROM owner, unnest(\(columns.ids)::int8[], \(columns.functions)::bytea[], \(columns.uniques)::bytea[],
                                   \(columns.priorities)::int2[], \(columns.epochs)::int8[], \(columns.hasEpoch)::bool[],
                                   \(columns.reducers)::bytea[], \(columns.hasReducer)::bool[], \(columns.workloads)::bytea[])
                     AS j(id, function, unique_key, priority, when_to_run, has_when, reducer, has_reducer, data)
                ON CONFLICT (server, id) DO NOTHING
                RETURNING 1
            ), updated AS (
                UPDATE \(unescaped: Self.jobsTable) AS t
                SET attempts = u.attempts, last_error = CASE WHEN u.has_error THEN u.last_error END,
                    first_failed = CASE WHEN u.has_first THEN u.first_failed END,
                    last_failed = CASE WHEN u.has_last THEN u.last_failed END, dead = u.dead,
                    when_to_run = CASE WHEN u.has_when THEN u.when_to_run END
                FROM owner, unnest(\(progress.ids)::int8[], \(progress.attempts)::int4[], \(progress.errors)::text[],
                                   \(progress.hasError)::bool[], \(progress.firstFailed)::int8[], \(progress.hasFirst)::bool[],
                                   \(progress.lastFailed)::int8[], \(progress.hasLast)::bool[], \(progress.dead)::bool[],
                                   \(progress.epochs)::int8[], \(progress.hasEpoch)::bool[])
                     AS u(id, attempts, last_error, has_error, first_failed, has_first, last_failed, has_last, dead,
                          when_to_run, has_when)
                WHERE t.server = owner.name AND t.id = u.id
                RETURNING 1
            ), events_inserted AS (
                INSERT INTO \(unescaped: Self.eventsTable)
                    (server, id, event, function, handle, unique_key, attempt, error, time, retry_at)
                SELECT owner.name, e.id, e.event, e.function, e.handle, e.unique_key, e.attempt,
                       CASE WHEN e.has_error THEN e.error END, e.time, CASE WHEN e.has_retry THEN e.retry_at END
                FROM owner, unnest(\(eventColumns.ids)::int8[], \(eventColumns.kinds)::text[],
                                   \(eventColumns.functions)::text[], \(eventColumns.handles)::text[],
                                   \(eventColumns.uniques)::text[], \(eventColumns.attempts)::int4[],
                                   \(eventColumns.errors)::text[], \(eventColumns.hasError)::bool[],
                                   \(eventColumns.times)::int8[], \(eventColumns.retryAts)::int8[],
                                   \(eventColumns.hasRetry)::bool[])
                     AS e(id, event, function, handle, unique_key, attempt, error, has_error, time, retry_at, has_retry)
                ON CONFLICT (server, id) DO NOTHING
                RETURNING 1
            ), events_deleted AS (
                DELETE FROM \(unescaped: Self.eventsTable)
                WHERE server = \(serverName) AND id = ANY(\(deliveredIDs)::int8[]) AND EXISTS (SELECT 1 FROM owner)
                RETURNING 1
            ), deleted AS (
                DELETE FROM \(unescaped: Self.jobsTable)
                WHERE server = \(serverName) AND id = ANY(\(deleteIDs)::int8[]) AND EXISTS (SELECT 1 FROM owner)
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM owner), (SELECT count(*) FROM inserted), (SELECT count(*) FROM updated),
                   (SELECT count(*) FROM deleted), (SELECT count(*) FROM events_inserted),
                   (SELECT count(*) FROM events_deleted)
            """)
        guard let row = result.rows.first, try row.decode((Int64, Int64, Int64, Int64, Int64, Int64).self).0 == 1
        else {
            throw PostgresStoreError("this server's lease was lost and another server adopted its jobs")
        }
    }

    /// The columns of the rows to insert, one array each, for `unnest`: one statement per batch, whatever
    /// its size. SQL NULLs cannot be array elements here, so each nullable column has a flag column.
    private struct InsertColumns {
        var ids: [Int64] = []
        var functions: [ByteBuffer] = []
        var uniques: [ByteBuffer] = []
        var priorities: [Int16] = []
        var epochs: [Int64] = []
        var hasEpoch: [Bool] = []
        var reducers: [ByteBuffer] = []
        var hasReducer: [Bool] = []
        var workloads: [ByteBuffer] = []

        init(capacity: Int) {
            ids.reserveCapacity(capacity)
            functions.reserveCapacity(capacity)
            uniques.reserveCapacity(capacity)
            priorities.reserveCapacity(capacity)
            epochs.reserveCapacity(capacity)
            hasEpoch.reserveCapacity(capacity)
            reducers.reserveCapacity(capacity)
            hasReducer.reserveCapacity(capacity)
            workloads.reserveCapacity(capacity)
        }

        mutating func append(_ job: StoredJob) {
            ids.append(Int64(bitPattern: job.id))
            functions.append(job.function)
            uniques.append(job.unique)
            priorities.append(Int16(job.priority.rawValue))
            epochs.append(job.epoch ?? 0)
            hasEpoch.append(job.epoch != nil)
            reducers.append(job.reducer ?? ByteBuffer())
            hasReducer.append(job.reducer != nil)
            workloads.append(job.workload)
        }
    }

    /// The events to add to the outbox, one array per column, as `InsertColumns`.
    private struct EventColumns {
        var ids: [Int64] = []
        var kinds: [String] = []
        var functions: [String] = []
        var handles: [String] = []
        var uniques: [String] = []
        var attempts: [Int32] = []
        var errors: [String] = []
        var hasError: [Bool] = []
        var times: [Int64] = []
        var retryAts: [Int64] = []
        var hasRetry: [Bool] = []

        init(capacity: Int) {
            ids.reserveCapacity(capacity)
        }

        mutating func append(_ stored: StoredJobEvent) {
            let event = stored.event
            ids.append(Int64(bitPattern: stored.id))
            kinds.append(event.event.rawValue)
            functions.append(event.function)
            handles.append(event.handle)
            uniques.append(event.unique)
            attempts.append(Int32(clamping: event.attempt))
            errors.append(event.error ?? "")
            hasError.append(event.error != nil)
            times.append(event.time)
            retryAts.append(event.retryAt ?? 0)
            hasRetry.append(event.retryAt != nil)
        }
    }

    /// The progress of rows to rewrite, one array per column, as `InsertColumns`.
    private struct ProgressColumns {
        var ids: [Int64] = []
        var attempts: [Int32] = []
        var errors: [String] = []
        var hasError: [Bool] = []
        var firstFailed: [Int64] = []
        var hasFirst: [Bool] = []
        var lastFailed: [Int64] = []
        var hasLast: [Bool] = []
        var dead: [Bool] = []
        var epochs: [Int64] = []
        var hasEpoch: [Bool] = []

        init(capacity: Int) {
            ids.reserveCapacity(capacity)
        }

        mutating func append(_ job: StoredJob) {
            let progress = job.progress
            ids.append(Int64(bitPattern: job.id))
            attempts.append(Int32(clamping: progress.attempts))
            errors.append(progress.lastError ?? "")
            hasError.append(progress.lastError != nil)
            firstFailed.append(progress.firstFailed ?? 0)
            hasFirst.append(progress.firstFailed != nil)
            lastFailed.append(progress.lastFailed ?? 0)
            hasLast.append(progress.lastFailed != nil)
            dead.append(progress.isDead)
            epochs.append(job.epoch ?? 0)
            hasEpoch.append(job.epoch != nil)
        }
    }

    // MARK: The group

    func maintain(_ delegate: StoreGroupDelegate) throws {
        try renewLease(delegate)
        guard case .member = membership else { return }
        while try adoptOneExpiredServer(delegate) {}
        try observe(delegate)
    }

    /// Renews this server's lease. When its row is gone, another server adopted its jobs: they are dropped
    /// here and the server joins again under a new incarnation. When another incarnation holds the row,
    /// another process took the name: this one stops writing.
    private func renewLease(_ delegate: StoreGroupDelegate) throws {
        guard case .member(let incarnation) = membership else { return }
        // The database counts the lease from when it runs the statement, which is after this moment.
        let heldUntil = ServerCore.now() + group.leaseExpiry.nanoseconds / 1_000_000_000 - 1
        let renewed = try run(
            """
            UPDATE \(unescaped: Self.serversTable) SET lease_expires = now() + \(leaseMilliseconds) * interval '1 millisecond', renewed = now()
            WHERE name = \(serverName) AND incarnation = \(incarnation)
            RETURNING 1
            """)
        guard renewed.rows.isEmpty else {
            delegate.leaseRenewed(heldUntil)
            return
        }
        delegate.lostStoredJobs()
        let holder = try run("SELECT incarnation FROM \(unescaped: Self.serversTable) WHERE name = \(serverName)")
        if holder.rows.isEmpty {
            logger.error(
                "store: this server's lease expired and another server adopted its jobs; joining the group again",
                metadata: ["store.server": "\(serverName)"])
            try claimName()
        } else {
            membership = .nameTaken
            logger.critical(
                "store: another server claimed this server's name; background jobs are refused until this one restarts",
                metadata: ["store.server": "\(serverName)"])
        }
    }

    /// Adopts the jobs of one server whose lease expired, if there is one; says whether there was.
    private func adoptOneExpiredServer(_ delegate: StoreGroupDelegate) throws -> Bool {
        var adopted: (name: String, first: Int64, count: Int64)?
        try transaction {
            let expired = try run(
                """
                SELECT name FROM \(unescaped: Self.serversTable)
                WHERE lease_expires < now() AND name <> \(serverName)
                ORDER BY lease_expires LIMIT 1
                FOR UPDATE SKIP LOCKED
                """)
            guard let row = expired.rows.first else { return }
            let dead = try row.decode(String.self)
            let count =
                try run("SELECT count(*) FROM \(unescaped: Self.jobsTable) WHERE server = \(dead)")
                .rows.first.map { try $0.decode(Int64.self) } ?? 0
            let first = Int64(bitPattern: count > 0 ? delegate.reserveHandles(Int(count)) : 0)
            if count > 0 {
                try run(
                    """
                    UPDATE \(unescaped: Self.jobsTable) AS j SET server = \(serverName), id = \(first - 1) + r.n
                    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM \(unescaped: Self.jobsTable) WHERE server = \(dead)) AS r
                    WHERE j.server = \(dead) AND j.id = r.id
                    """, timeout: Self.adoptionTimeout)
            }
            try run("DELETE FROM \(unescaped: Self.serversTable) WHERE name = \(dead)")
            adopted = (dead, first, count)
        }
        guard let adopted else { return false }
        logger.notice(
            "store: adopted the jobs of a server whose lease expired",
            metadata: ["store.server": "\(adopted.name)", "store.jobs": "\(adopted.count)"])
        if adopted.count > 0 {
            // Committed: from here the rows are this server's, and a crash before they are queued leaves
            // them to its next start.
            _ = try read(idsAfter: adopted.first - 1, upTo: adopted.first + adopted.count - 1, delegate.adopt)
        }
        return true
    }

    /// Reads the servers and their leases; counts the group's jobs too while someone asks for them.
    private func observe(_ delegate: StoreGroupDelegate) throws {
        let now = NIODeadline.now()
        if delegate.wantsCounts() {
            countingUntil = now + Self.countingWindow
        }
        let counting = countingUntil.map { now < $0 } ?? false
        let servers = try run(
            """
            SELECT name, (extract(epoch FROM lease_expires - now()) * 1000)::int8
            FROM \(unescaped: Self.serversTable) ORDER BY name
            """)
        var perServer: [String: Int] = [:]
        var queuedElsewhere: [ByteBuffer: Int]?
        if counting {
            var elsewhere: [ByteBuffer: Int] = [:]
            let counts = try run(
                "SELECT server, function, count(*) FROM \(unescaped: Self.jobsTable) GROUP BY server, function")
            for row in counts.rows {
                let (server, function, count) = try row.decode((String, ByteBuffer, Int64).self)
                perServer[server, default: 0] += Int(count)
                if server != serverName {
                    elsewhere[ByteBuffer(bytes: function.readableBytesView), default: 0] += Int(count)
                }
            }
            queuedElsewhere = elsewhere
        }
        var status = StoreGroupStatus(queuedElsewhere: queuedElsewhere)
        for row in servers.rows {
            let (name, lease) = try row.decode((String, Int64).self)
            status.members.append(
                .init(
                    name: name, isSelf: name == serverName, leaseMilliseconds: lease,
                    queued: counting ? perServer[name, default: 0] : nil))
        }
        delegate.observed(status)
    }

    /// Gives the lease up at a graceful stop, so that the group adopts what is left at once.
    func close() {
        if let connection, !connection.isClosed, case .member(let incarnation) = membership {
            do {
                try run(
                    """
                    UPDATE \(unescaped: Self.serversTable) SET lease_expires = now()
                    WHERE name = \(serverName) AND incarnation = \(incarnation)
                    """)
            } catch {
                logger.warning("store: could not give the lease up", metadata: ["store.error": "\(error)"])
            }
        }
        if let connection {
            _ = try? wait(connection.close(), timeout: Self.queryTimeout) {}
        }
        connection = nil
        try? loops.syncShutdownGracefully()
    }

    // MARK: Rows

    /// Hands the rows of this server with ids in `after+1...upTo` to `restore` in id order, a chunk at a
    /// time; rows that are not jobs are moved to the set-aside table.
    private func read(idsAfter after: Int64, upTo last: Int64, _ restore: ([StoredJob]) -> Void) throws -> StoreRecovery
    {
        var recovery = StoreRecovery()
        var badRows: [(id: Int64, reason: String)] = []
        // One cursor, fetched a chunk at a time: the query is planned and sorted once. (A LIMIT query per
        // chunk, on a table filled since its last ANALYZE, was planned as a scan of every remaining row per
        // chunk: 400,000 jobs took 8 s to read back.)
        try transaction {
            try run(
                """
                DECLARE gearbox_rows NO SCROLL CURSOR FOR
                SELECT id, function, unique_key, priority, when_to_run, reducer, data,
                       attempts, last_error, first_failed, last_failed, dead
                FROM \(unescaped: Self.jobsTable)
                WHERE server = \(serverName) AND id > \(after) AND id <= \(last) ORDER BY id
                """)
            while true {
                let result = try run(
                    "FETCH \(unescaped: String(Self.recoveryChunk)) FROM gearbox_rows", timeout: Self.adoptionTimeout)
                var jobs: [StoredJob] = []
                jobs.reserveCapacity(Self.recoveryChunk)
                var rows = 0
                for row in result.rows {
                    rows += 1
                    let (
                        id, function, unique, priority, epoch, reducer, data, attempts, lastError, firstFailed,
                        lastFailed, isDead
                    ) = try row.decode(
                        (
                            Int64, ByteBuffer, ByteBuffer, Int16, Int64?, ByteBuffer?, ByteBuffer, Int32, String?,
                            Int64?, Int64?, Bool
                        ).self)
                    if let reason = Self.problem(id: id, function: function, priority: priority, epoch: epoch) {
                        badRows.append((id, reason))
                        continue
                    }
                    jobs.append(
                        StoredJob(
                            id: UInt64(id), function: function, unique: unique,
                            priority: GearmanPriority(rawValue: Int(priority))!, epoch: epoch, reducer: reducer,
                            workload: data,
                            progress: attempts == 0 && !isDead
                                ? .none
                                : JobProgress(
                                    attempts: UInt32(clamping: attempts), lastError: lastError,
                                    firstFailed: firstFailed, lastFailed: lastFailed, isDead: isDead)))
                }
                recovery.restored += jobs.count
                if !jobs.isEmpty { restore(jobs) }
                if rows < Self.recoveryChunk { break }
            }
        }
        if !badRows.isEmpty {
            try setAside(badRows)
            recovery.setAside = badRows.count
        }
        return recovery
    }

    private static func problem(id: Int64, function: ByteBuffer, priority: Int16, epoch: Int64?) -> String? {
        guard id > 0 else { return "id \(id) is not a job handle number" }
        guard function.readableBytes > 0 else { return "no function name" }
        guard GearmanPriority(rawValue: Int(priority)) != nil else { return "priority is not 0, 1 or 2" }
        if let epoch, !GearmanSubmitJob.validEpochs.contains(epoch) { return "when_to_run is not a Unix time" }
        return nil
    }

    private func setAside(_ rows: [(id: Int64, reason: String)]) throws {
        try transaction {
            for row in rows {
                logger.warning(
                    "store: setting aside a row that is not a job",
                    metadata: [
                        "store.server": "\(serverName)", "store.id": "\(row.id)", "store.reason": "\(row.reason)",
                    ])
                try run(
                    """
                    WITH moved AS (
                        DELETE FROM \(unescaped: Self.jobsTable) WHERE server = \(serverName) AND id = \(row.id) RETURNING *
                    )
                    INSERT INTO \(unescaped: Self.setAsideTable)
                    SELECT server, id, function, unique_key, priority, when_to_run, reducer, data, \(row.reason), now()
                    FROM moved
                    """)
            }
        }
    }

    // MARK: Connection

    private func transaction(_ body: () throws -> Void) throws {
        try run("BEGIN")
        do {
            try body()
            try run("COMMIT")
        } catch {
            if let connection, !connection.isClosed {
                _ = try? run("ROLLBACK")
            }
            throw error
        }
    }

    /// Runs one statement; closes the connection (which fails the statement) when it has not answered by
    /// `timeout`.
    @discardableResult
    private func run(_ query: PostgresQuery, timeout: TimeAmount = queryTimeout) throws -> PostgresQueryResult {
        let connection = try connected()
        do {
            return try wait(connection.query(query, logger: logger), timeout: timeout) {
                let closing: EventLoopFuture<Void> = connection.close()
                _ = closing
            }
        } catch {
            if connection.isClosed {
                self.connection = nil
                reconnection.failed(Self.describe(error))
            }
            throw PostgresStoreError(Self.describe(error))
        }
    }

    private func connected() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        if let next = reconnection.nextAttempt, NIODeadline.now() < next {
            throw PostgresStoreError("the database is unreachable (\(reconnection.lastFailure ?? "no connection"))")
        }
        var configuration = PostgresConnection.Configuration(
            host: address.host, port: address.port, username: address.user, password: address.password,
            database: address.database, tls: try tls())
        configuration.options.connectTimeout = Self.queryTimeout
        connections += 1
        let wasDown = reconnection.lastFailure != nil
        do {
            let future = PostgresConnection.connect(
                on: loops.next(), configuration: configuration, id: connections, logger: logger)
            let connection = try wait(future, timeout: Self.queryTimeout) {
                future.whenSuccess {
                    let closing: EventLoopFuture<Void> = $0.close()
                    _ = closing
                }
            }
            self.connection = connection
            reconnection = Backoff()
            if wasDown {
                logger.notice("store: connected to the database again", metadata: ["store.location": "\(address)"])
            }
            return connection
        } catch {
            let reason = Self.describe(error)
            if !wasDown {
                logger.error(
                    "store: cannot reach the database",
                    metadata: ["store.location": "\(address)", "store.error": "\(reason)"])
            }
            reconnection.failed(reason)
            throw PostgresStoreError("the database is unreachable (\(reason))")
        }
    }

    /// The connection's TLS, as the address's `sslmode` asks.
    private func tls() throws -> PostgresConnection.Configuration.TLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch address.tls {
        case .disable:
            return .disable
        case .prefer:
            configuration.certificateVerification = .none
            return .prefer(try NIOSSLContext(configuration: configuration))
        case .require:
            configuration.certificateVerification = .none
            return .require(try NIOSSLContext(configuration: configuration))
        case .verifyFull:
            return .require(try NIOSSLContext(configuration: configuration))
        }
    }

    /// Waits for `future` on this (non-event-loop) thread, at most `timeout`; `onTimeout` then cleans up.
    private func wait<Value: Sendable>(
        _ future: EventLoopFuture<Value>, timeout: TimeAmount, onTimeout: @escaping @Sendable () -> Void
    ) throws -> Value {
        let promise = future.eventLoop.makePromise(of: Value.self)
        future.cascade(to: promise)
        let timer = future.eventLoop.scheduleTask(in: timeout) {
            promise.fail(PostgresStoreError("no answer within \(timeout.nanoseconds / 1_000_000_000) s"))
            onTimeout()
        }
        defer { timer.cancel() }
        return try promise.futureResult.wait()
    }

    /// What a client's QUEUE_ERROR and the log say: the server's message, never the statement.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                return message
            }
            return error.underlying.map { "\(error.code): \($0)" } ?? "\(error.code)"
        }
        return "\(error)"
    }
}
