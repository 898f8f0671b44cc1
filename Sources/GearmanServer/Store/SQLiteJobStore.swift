import GearmanProtocol
import Logging
import NIOCore

/// Background jobs in one SQLite file: a row per job, keyed by its handle's number.
///
/// WAL journal with `synchronous=FULL`: a commit returns once the log is on disk (fsync), so an
/// acknowledged job survives a crash of the process and a loss of power. `locking_mode=EXCLUSIVE` keeps a
/// second server from opening the same file: two servers replaying one queue would run every job twice.
///
/// A file that gearmand's `-q libsqlite3` wrote holds its queue in `gearman_queue`; its rows are moved into
/// this store's table on the first start, in their order, so that a gearmand command line carries its
/// queued jobs over too.
final class SQLiteJobStore: JobStore {
    static let table = "gearbox_jobs"
    static let setAsideTable = "gearbox_jobs_set_aside"
    static let eventsTable = "gearbox_events"
    static let gearmandTable = "gearman_queue"
    /// Rows handed to the engine at a time during replay.
    static let recoveryChunk = 4096

    private let database: SQLiteDatabase
    private let path: String
    private let logger: Logger
    private let begin: SQLiteStatement
    private let commit: SQLiteStatement
    private let insert: SQLiteStatement
    private let delete: SQLiteStatement
    private let insertEvent: SQLiteStatement
    private let deleteEvent: SQLiteStatement

    init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        database = try SQLiteDatabase(path: path)
        do {
            try database.execute("PRAGMA locking_mode=EXCLUSIVE")
            try database.execute("PRAGMA journal_mode=WAL")
            try database.execute("PRAGMA synchronous=FULL")
        } catch let error as SQLiteError where error.isBusy {
            throw SQLiteError(code: error.code, message: "\(path) is in use by another process")
        }
        try database.execute(
            """
            CREATE TABLE IF NOT EXISTS \(Self.table) (
                id INTEGER PRIMARY KEY,
                function BLOB NOT NULL,
                unique_key BLOB NOT NULL,
                priority INTEGER NOT NULL,
                when_to_run INTEGER,
                reducer BLOB,
                data BLOB NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                first_failed INTEGER,
                last_failed INTEGER,
                dead INTEGER NOT NULL DEFAULT 0
            );
            CREATE TABLE IF NOT EXISTS \(Self.eventsTable) (
                id INTEGER PRIMARY KEY,
                event TEXT NOT NULL,
                function TEXT NOT NULL,
                handle TEXT NOT NULL,
                unique_key TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                error TEXT,
                time INTEGER NOT NULL,
                retry_at INTEGER
            );
            CREATE TABLE IF NOT EXISTS \(Self.setAsideTable) (
                id INTEGER, function, unique_key, priority, when_to_run, reducer, data,
                reason TEXT, set_aside_at INTEGER
            );
            """)
        try Self.addProgressColumns(to: database)
        begin = try database.prepare("BEGIN IMMEDIATE")
        commit = try database.prepare("COMMIT")
        insert = try database.prepare(
            """
            INSERT OR REPLACE INTO \(Self.table)
                (id, function, unique_key, priority, when_to_run, reducer, data,
                 attempts, last_error, first_failed, last_failed, dead)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        delete = try database.prepare("DELETE FROM \(Self.table) WHERE id = ?")
        insertEvent = try database.prepare(
            """
            INSERT OR REPLACE INTO \(Self.eventsTable)
                (id, event, function, handle, unique_key, attempt, error, time, retry_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        deleteEvent = try database.prepare("DELETE FROM \(Self.eventsTable) WHERE id = ?")
        try importGearmandQueue()
    }

    /// A file written before retries were kept lacks their columns: they are added, every job at its first
    /// attempt.
    private static func addProgressColumns(to database: SQLiteDatabase) throws {
        let columns = [
            ("attempts", "INTEGER NOT NULL DEFAULT 0"), ("last_error", "TEXT"), ("first_failed", "INTEGER"),
            ("last_failed", "INTEGER"), ("dead", "INTEGER NOT NULL DEFAULT 0"),
        ]
        for (name, type) in columns {
            let present = try database.integer(
                "SELECT count(*) FROM pragma_table_info('\(table)') WHERE name = '\(name)'")
            if present == 0 {
                try database.execute("ALTER TABLE \(table) ADD COLUMN \(name) \(type)")
            }
        }
    }

    /// Moves the rows of gearmand's table, if the file has one, into this store's; logs how many.
    private func importGearmandQueue() throws {
        let exists = try database.integer(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '\(Self.gearmandTable)'")
        guard exists == 1 else { return }
        let count = Int(try database.integer("SELECT count(*) FROM \(Self.gearmandTable)") ?? 0)
        // gearmand's priorities are ours (0 high, 1 normal, 2 low); its when_to_run is 0 for "now".
        try transaction {
            try database.execute(
                """
                INSERT INTO \(Self.table) (id, function, unique_key, priority, when_to_run, reducer, data)
                SELECT (SELECT coalesce(max(id), 0) FROM \(Self.table)) + rowid, function_name,
                       coalesce(unique_key, ''), priority, nullif(when_to_run, 0), NULL, data
                FROM \(Self.gearmandTable) ORDER BY rowid;
                DROP TABLE \(Self.gearmandTable);
                """)
        }
        if count > 0 {
            logger.notice(
                "store: moved gearmand's queued jobs into this store",
                metadata: ["store.location": "\(path)", "store.jobs": "\(count)"])
        }
    }

    /// A row is written whole, so an update is an insert that replaces it.
    func write(
        inserting jobs: [StoredJob], updating updates: [StoredJob], deleting ids: [UInt64],
        events: [StoredJobEvent], eventsDelivered: [UInt64]
    ) throws {
        try transaction {
            for stored in events {
                let event = stored.event
                try insertEvent.bind(Int64(bitPattern: stored.id), at: 1)
                try insertEvent.bind(event.event.rawValue, at: 2)
                try insertEvent.bind(event.function, at: 3)
                try insertEvent.bind(event.handle, at: 4)
                try insertEvent.bind(event.unique, at: 5)
                try insertEvent.bind(Int64(event.attempt), at: 6)
                if let error = event.error {
                    try insertEvent.bind(error, at: 7)
                } else {
                    try insertEvent.bindNull(at: 7)
                }
                try insertEvent.bind(event.time, at: 8)
                if let retryAt = event.retryAt {
                    try insertEvent.bind(retryAt, at: 9)
                } else {
                    try insertEvent.bindNull(at: 9)
                }
                try insertEvent.run()
            }
            for id in eventsDelivered {
                try deleteEvent.bind(Int64(bitPattern: id), at: 1)
                try deleteEvent.run()
            }
            for job in [jobs, updates].joined() {
                try insert.bind(Int64(bitPattern: job.id), at: 1)
                try insert.bind(job.function, at: 2)
                try insert.bind(job.unique, at: 3)
                try insert.bind(Int64(job.priority.rawValue), at: 4)
                if let epoch = job.epoch { try insert.bind(epoch, at: 5) } else { try insert.bindNull(at: 5) }
                if let reducer = job.reducer { try insert.bind(reducer, at: 6) } else { try insert.bindNull(at: 6) }
                try insert.bind(job.workload, at: 7)
                try insert.bind(Int64(job.progress.attempts), at: 8)
                if let error = job.progress.lastError {
                    try insert.bind(error, at: 9)
                } else {
                    try insert.bindNull(at: 9)
                }
                if let first = job.progress.firstFailed {
                    try insert.bind(first, at: 10)
                } else {
                    try insert.bindNull(at: 10)
                }
                if let last = job.progress.lastFailed {
                    try insert.bind(last, at: 11)
                } else {
                    try insert.bindNull(at: 11)
                }
                try insert.bind(Int64(job.progress.isDead ? 1 : 0), at: 12)
                try insert.run()
            }
            for id in ids {
                try delete.bind(Int64(bitPattern: id), at: 1)
                try delete.run()
            }
        }
    }

    func recoverEvents() throws -> [StoredJobEvent] {
        let select = try database.prepare(
            """
            SELECT id, event, function, handle, unique_key, attempt, error, time, retry_at
            FROM \(Self.eventsTable) ORDER BY id
            """)
        var events: [StoredJobEvent] = []
        while try select.step() {
            guard let kind = JobEvent.Kind(rawValue: select.string(1)) else { continue }
            events.append(
                StoredJobEvent(
                    id: UInt64(bitPattern: select.int64(0)),
                    event: JobEvent(
                        event: kind, function: select.string(2), handle: select.string(3), unique: select.string(4),
                        attempt: Int(select.int64(5)), error: select.isNull(6) ? nil : select.string(6),
                        time: select.int64(7), retryAt: select.isNull(8) ? nil : select.int64(8))))
        }
        return events
    }

    func recover(_ restore: ([StoredJob]) -> Void) throws -> StoreRecovery {
        var recovery = StoreRecovery()
        var badRows: [(id: Int64, reason: String)] = []
        let select = try database.prepare(
            """
            SELECT id, function, unique_key, priority, when_to_run, reducer, data,
                   attempts, last_error, first_failed, last_failed, dead
            FROM \(Self.table) WHERE id > ? ORDER BY id
            """)
        var chunk = RecoveryChunk()
        func handOver() {
            let jobs = chunk.jobs()
            recovery.restored += jobs.count
            restore(jobs)
            chunk = RecoveryChunk()
        }
        var after = Int64.min
        var readErrors = 0
        scanning: while true {
            try select.bind(after, at: 1)
            defer { select.reset() }
            do {
                while try select.step() {
                    after = select.int64(0)
                    if let reason = Self.problem(with: select) {
                        badRows.append((after, reason))
                        continue
                    }
                    chunk.append(select)
                    if chunk.count == Self.recoveryChunk {
                        handOver()
                    }
                }
                break scanning
            } catch let error as SQLiteError {
                // A damaged page: skip past the last row read and go on, a few times at most.
                readErrors += 1
                logger.error(
                    "store: reading jobs failed",
                    metadata: ["store.location": "\(path)", "store.after": "\(after)", "store.error": "\(error)"])
                guard readErrors < 8 else { break scanning }
                after += 1
            }
        }
        handOver()
        if !badRows.isEmpty {
            try setAside(badRows)
            recovery.setAside = badRows.count
        }
        return recovery
    }

    /// Why a row is not a job, or nil when it is one.
    private static func problem(with row: SQLiteStatement) -> String? {
        guard row.int64(0) > 0 else { return "id \(row.int64(0)) is not a job handle number" }
        guard [.blob, .text].contains(row.type(1)), row.byteCount(1) > 0 else { return "no function name" }
        guard [.blob, .text, .null].contains(row.type(2)) else { return "unique_key is not bytes" }
        guard row.type(3) == .integer, GearmanPriority(rawValue: Int(row.int64(3))) != nil else {
            return "priority is not 0, 1 or 2"
        }
        switch row.type(4) {
        case .null: break
        case .integer where GearmanSubmitJob.validEpochs.contains(row.int64(4)): break
        default: return "when_to_run is not a Unix time"
        }
        guard [.blob, .text, .null].contains(row.type(5)) else { return "reducer is not bytes" }
        guard [.blob, .text].contains(row.type(6)) else { return "data is not bytes" }
        return nil
    }

    /// Rows read back, their bytes in one shared buffer: a job's function, unique key and workload are
    /// slices of it, which spares two allocations per job (a million replayed jobs would otherwise take
    /// more memory than they had before the restart). Large workloads get buffers of their own, so that a
    /// long-queued job does not pin a big slab.
    private struct RecoveryChunk {
        static let ownBufferThreshold = 16 * 1024

        private struct Row {
            var id: UInt64
            var priority: GearmanPriority
            var epoch: Int64?
            var function: Range<Int>
            var unique: Range<Int>
            var workload: Range<Int>
            var ownWorkload: ByteBuffer?
            var reducer: ByteBuffer?
            var progress: JobProgress
        }

        private var slab = ByteBuffer()
        private var rows: [Row] = []

        var count: Int { rows.count }

        mutating func append(_ row: SQLiteStatement) {
            let function = append(column: 1, of: row)
            let unique = append(column: 2, of: row)
            var ownWorkload: ByteBuffer?
            var workload = slab.writerIndex..<slab.writerIndex
            if row.byteCount(6) >= Self.ownBufferThreshold {
                var bytes = ByteBuffer()
                row.appendBytes(6, to: &bytes)
                ownWorkload = bytes
            } else {
                workload = append(column: 6, of: row)
            }
            var reducer: ByteBuffer?
            if row.type(5) != .null {
                var bytes = ByteBuffer()
                row.appendBytes(5, to: &bytes)
                reducer = bytes
            }
            rows.append(
                Row(
                    id: UInt64(row.int64(0)), priority: GearmanPriority(rawValue: Int(row.int64(3)))!,
                    epoch: row.isNull(4) ? nil : row.int64(4), function: function, unique: unique,
                    workload: workload, ownWorkload: ownWorkload, reducer: reducer, progress: Self.progress(of: row)))
        }

        private static func progress(of row: SQLiteStatement) -> JobProgress {
            let attempts = row.int64(7)
            guard attempts > 0 || row.int64(11) != 0 else { return .none }
            return JobProgress(
                attempts: UInt32(clamping: attempts), lastError: row.isNull(8) ? nil : row.string(8),
                firstFailed: row.isNull(9) ? nil : row.int64(9), lastFailed: row.isNull(10) ? nil : row.int64(10),
                isDead: row.int64(11) != 0)
        }

        private mutating func append(column: Int32, of row: SQLiteStatement) -> Range<Int> {
            let start = slab.writerIndex
            if slab.writableBytes < row.byteCount(column) {
                slab.reserveCapacity(minimumWritableBytes: max(row.byteCount(column), slab.capacity))
            }
            row.appendBytes(column, to: &slab)
            return start..<slab.writerIndex
        }

        /// The jobs, made once every row is in: slicing earlier would make the next write copy the slab.
        func jobs() -> [StoredJob] {
            rows.map { row in
                StoredJob(
                    id: row.id, function: slice(row.function), unique: slice(row.unique), priority: row.priority,
                    epoch: row.epoch, reducer: row.reducer, workload: row.ownWorkload ?? slice(row.workload),
                    progress: row.progress)
            }
        }

        private func slice(_ range: Range<Int>) -> ByteBuffer {
            slab.getSlice(at: range.lowerBound, length: range.count)!
        }
    }

    /// Moves unreadable rows to their own table, with the reason: kept for the operator, out of the queue.
    private func setAside(_ rows: [(id: Int64, reason: String)]) throws {
        let copy = try database.prepare(
            """
            INSERT INTO \(Self.setAsideTable)
            SELECT id, function, unique_key, priority, when_to_run, reducer, data, ?, CAST(strftime('%s') AS INTEGER)
            FROM \(Self.table) WHERE id = ?
            """)
        try transaction {
            for row in rows {
                logger.warning(
                    "store: setting aside a row that is not a job",
                    metadata: ["store.location": "\(path)", "store.id": "\(row.id)", "store.reason": "\(row.reason)"])
                try copy.bind(row.reason, at: 1)
                try copy.bind(row.id, at: 2)
                try copy.run()
                try delete.bind(row.id, at: 1)
                try delete.run()
            }
        }
    }

    private func transaction(_ body: () throws -> Void) throws {
        do {
            try begin.run()
            try body()
            try commit.run()
        } catch {
            if database.isInTransaction {
                try? database.execute("ROLLBACK")
            }
            throw error
        }
    }
}
