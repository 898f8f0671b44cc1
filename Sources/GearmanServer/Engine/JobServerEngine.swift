import GearmanProtocol
import HeapModule
import NIOCore

/// The job server's queues and bookkeeping as a state machine: events in, actions out, no I/O.
///
/// Every operation costs O(1) or O(log n) in the number of queued jobs (O(k) in the number of functions a
/// worker registered, which does not grow with the queue). Not thread-safe: the channel layer serialises
/// calls (see `ServerCore`).
public final class JobServerEngine {
    public struct Configuration: Sendable {
        /// Attempts after which a job whose workers keep vanishing fails; 0 retries forever.
        public var jobRetries: Int
        public var handleFormat: JobHandleFormat
        /// gearmand refuses longer unique keys with "Unique value too large".
        public var maximumUniqueLength: Int
        public var version: String
        public var processID: Int
        /// What the admin `verbose` command answers.
        public var verbosity: String
        /// Background jobs are written to a store (`store` actions) and acknowledged once it has them.
        public var storesBackgroundJobs: Bool
        /// Records how long jobs wait and run; nil measures nothing (counts are kept either way).
        public var metrics: ServerMetrics?
        /// The functions whose results are kept and answered again without a worker; nil keeps none.
        public var resultCache: ResultCacheConfiguration?
        /// How failed background jobs are tried again.
        public var retryPolicy: RetryPolicy
        /// How long background jobs whose last attempt failed are kept.
        public var deadLetterPolicy: DeadLetterPolicy
        /// Background jobs' events become `event` actions (for `--webhook`).
        public var reportsEvents: Bool

        public init(
            jobRetries: Int = 0,
            handlePrefix: String = "gearbox",
            maximumUniqueLength: Int = 64,
            version: String = GearboxVersion.protocolVersion,
            processID: Int = 0,
            verbosity: String = "ERROR",
            storesBackgroundJobs: Bool = false,
            metrics: ServerMetrics? = nil,
            resultCache: ResultCacheConfiguration? = nil,
            retryPolicy: RetryPolicy = RetryPolicy(),
            deadLetterPolicy: DeadLetterPolicy = DeadLetterPolicy(),
            reportsEvents: Bool = false
        ) {
            self.retryPolicy = retryPolicy
            self.deadLetterPolicy = deadLetterPolicy
            self.reportsEvents = reportsEvents
            self.metrics = metrics
            self.resultCache = resultCache
            self.jobRetries = jobRetries
            self.handleFormat = JobHandleFormat(prefix: handlePrefix)
            self.maximumUniqueLength = maximumUniqueLength
            self.version = version
            self.processID = processID
            self.verbosity = verbosity
            self.storesBackgroundJobs = storesBackgroundJobs
        }
    }

    let configuration: Configuration
    /// Nil unless some function's results are kept.
    let resultCache: ResultCache?
    @exclusivity(unchecked) var connections: [ConnectionID: ConnectionState] = [:]
    @exclusivity(unchecked) var functions: [ByteBuffer: FunctionQueue] = [:]
    @exclusivity(unchecked) var jobs = JobTable()
    @exclusivity(unchecked) var uniques: [UniqueKey: Job] = [:]
    /// Background submitters that joined a job while its row was being written, besides the one its
    /// `StoreReceipt` names. A job cancelled meanwhile keeps its entry: they are still owed an answer.
    var lateAcknowledgements: [JobHandle: [ConnectionID]] = [:]
    /// Stored jobs of each function that other servers sharing the store hold, as last counted; empty
    /// outside such a group.
    var queuedElsewhere: [ByteBuffer: Int] = [:]
    /// Unix time until which this server's lease in a shared store surely holds; `.max` outside a group.
    @exclusivity(unchecked) var leaseHeldUntil = Int64.max
    /// Set when a stored job was passed over for want of a lease.
    var heldBackStoredJobs = false
    /// Set by the admin commands that show the group's counts; the store counts while they are asked for.
    var groupCountsRequested = false
    /// Background jobs whose last attempt failed, kept for the operator.
    var deadLetters = DeadLetters()
    var scheduledJobs = Heap<ScheduledJob>()
    private var requestedWakeup: Int64?
    @exclusivity(unchecked) private var nextHandle: UInt64 = 1
    @exclusivity(unchecked) private var nextSequence: UInt64 = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        resultCache = configuration.resultCache.map(ResultCache.init(configuration:))
    }

    deinit {
        for function in functions.values {
            function.removeAllJobs()
        }
    }

    public var handleFormat: JobHandleFormat { configuration.handleFormat }

    // MARK: Connections

    /// - Parameter mayChangeState: whether its address is one `AdminAccess` allows to change state.
    public func connectionOpened(_ id: ConnectionID, host: String, mayChangeState: Bool) {
        precondition(id != .none, "connection ids start at 1")
        connections[id] = ConnectionState(id: id, host: host, mayChangeState: mayChangeState)
    }

    /// The connection presented a verified client certificate with this common name.
    public func certificateIdentified(_ id: ConnectionID, commonName: String) {
        connections[id]?.tlsName = String(commonName.prefix(255))
    }

    /// The connection presented a client certificate that `AdminAccess` allows to change state.
    public func administrationGranted(to id: ConnectionID) {
        connections[id]?.mayChangeState = true
    }

    /// A connection went away: its running jobs are retried elsewhere and its foreground jobs are dropped
    /// unless another client waits on them or someone submitted them in the background.
    public func connectionClosed(_ id: ConnectionID, now: Int64, into actions: inout [ServerAction]) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        // First as a client, so that a job this connection also ran does not report its failure to it.
        for handle in connection.awaitedJobs {
            guard let job = jobs[handle] else { continue }
            job.removeWaiter(id)
            if !job.hasWaiters, !job.runsDetached, !job.isRunning {
                discard(job, into: &actions)
            }
        }
        for job in connection.runningJobs.values {
            job.function.runningCount -= 1
            retryOrFail(job, now: now, into: &actions)
        }
        connection.runningJobs.removeAll()
        for ability in connection.abilities {
            ability.function.workerCount -= 1
        }
    }

    /// The peer broke the protocol: tell it why, then close.
    public func protocolError(_ error: GearmanProtocolError, from id: ConnectionID, into actions: inout [ServerAction])
    {
        actions.append(.send(id, .response(.error(error))))
        actions.append(.close(id))
    }

    // MARK: Requests

    public func handle(
        _ request: GearmanRequest, from id: ConnectionID, now: Int64, into actions: inout [ServerAction]
    ) {
        guard let connection = connections[id] else { return }
        switch request {
        case .submitJob(let submission):
            submit(submission, from: connection, now: now, into: &actions)
        case .grabJob(let mode):
            grab(mode, for: connection, now: now, into: &actions)
        case .preSleep:
            preSleep(connection, now: now, into: &actions)
        case .workComplete(let handle, let data):
            complete(handle, data: data, from: connection, now: now, into: &actions)
        case .workData(let handle, let data):
            guard let job = runningJob(handle, of: connection, into: &actions) else { return }
            if job.function.cachedFunction != nil {
                job.resultIsPartial = true
            }
            forward(.workData(handle: handle, data: data), of: job, into: &actions)
        case .workWarning(let handle, let data):
            guard let job = runningJob(handle, of: connection, into: &actions) else { return }
            forward(.workWarning(handle: handle, data: data), of: job, into: &actions)
        case .workStatus(let handle, let numerator, let denominator):
            guard let job = runningJob(handle, of: connection, into: &actions) else { return }
            job.numerator = UInt32(decimal: numerator) ?? 0
            job.denominator = UInt32(decimal: denominator) ?? 0
            forward(
                .workStatus(handle: handle, numerator: numerator, denominator: denominator), of: job, into: &actions)
        case .workFail(let handle):
            guard let job = runningJob(handle, of: connection, into: &actions) else { return }
            job.function.counts.failed += 1
            recordRunTime(of: job)
            forward(.workFail(handle: handle), of: job, into: &actions)
            attemptFailed(job, error: "WORK_FAIL", now: now, into: &actions)
        case .workException(let handle, let data):
            guard let job = runningJob(handle, of: connection, into: &actions) else { return }
            job.function.counts.exceptions += 1
            recordRunTime(of: job)
            for waiter in job.waiters {
                let wantsExceptions = connections[waiter]?.wantsExceptions ?? false
                let response: GearmanResponse =
                    wantsExceptions ? .workException(handle: handle, data: data) : .workFail(handle: handle)
                actions.append(.send(waiter, .response(response)))
            }
            attemptFailed(job, error: Self.errorText(data), now: now, into: &actions)
        case .canDo(let name):
            canDo(name, timeout: nil, for: connection)
        case .canDoTimeout(let name, let timeout):
            // 0 would time every job out at once and bounce it between workers for ever: it means none.
            canDo(name, timeout: timeout == 0 ? nil : timeout, for: connection)
        case .cantDo(let name):
            guard let function = functions[name], let index = connection.ability(for: function) else { return }
            connection.abilities.remove(at: index)
            function.workerCount -= 1
            requeueRunningJobs(of: connection, now: now, into: &actions) { $0.function === function }
        case .resetAbilities:
            for ability in connection.abilities {
                ability.function.workerCount -= 1
            }
            connection.abilities.removeAll()
            requeueRunningJobs(of: connection, now: now, into: &actions) { _ in true }
        case .setClientID(let clientID):
            let text = String(buffer: clientID).filter { !$0.isWhitespace }
            connection.clientID = text.isEmpty ? "-" : String(text.prefix(255))
        case .getStatus(let handleBytes):
            let job = handleFormat.parse(handleBytes).flatMap { jobs[$0] }
            actions.append(.send(id, .response(.status(status(of: job, key: handleBytes)))))
        case .getStatusUnique(let unique):
            let job = jobWithUnique(unique)
            var status = status(of: job, key: unique)
            status.waitingClients = UInt32(job?.waiters.count ?? 0)
            actions.append(.send(id, .response(.statusUnique(status))))
        case .echo(let data):
            actions.append(.send(id, .response(.echo(data))))
        case .option(let name):
            if String(buffer: name) == "exceptions" {
                connection.wantsExceptions = true
                actions.append(.send(id, .response(.option(name))))
            } else {
                actions.append(
                    .send(
                        id, .response(.error(code: "UNKNOWN_OPTION", message: "Server does not recognize given option"))
                    ))
            }
        case .submitJobScheduled:
            actions.append(
                .send(
                    id,
                    .response(
                        .error(
                            code: "INVALID_COMMAND", message: "SUBMIT_JOB_SCHED is not supported; use SUBMIT_JOB_EPOCH")
                    )))
        case .allYours:
            break
        }
    }

    /// Applies one request packet: the same as `handle(GearmanRequest(packet:), ...)`, with the packets of
    /// every job's path (SUBMIT_JOB and its priorities, GRAB_JOB*, WORK_COMPLETE, PRE_SLEEP) decoded straight
    /// into the engine's operations rather than through a `GearmanRequest`, whose copies cost a measurable
    /// share of a job. Throws what the packet broke; the caller answers with `protocolError`.
    public func handle(
        _ packet: GearmanPacket, from id: ConnectionID, now: Int64, into actions: inout [ServerAction]
    ) throws {
        guard packet.magic == .request else {
            throw GearmanProtocolError.invalidMagic(packet.magic.rawValue)
        }
        if let (priority, isBackground) = packet.type.plainSubmission {
            let (function, unique, workload) = try packet.plainSubmissionArguments()
            guard let connection = connections[id] else { return }
            submit(
                function: function, unique: unique, workload: workload, priority: priority,
                isBackground: isBackground, epoch: nil, reducer: nil, from: connection, now: now, into: &actions)
            return
        }
        switch packet.type {
        case .grabJobUnique:
            guard let connection = connections[id] else { return }
            grab(.unique, for: connection, now: now, into: &actions)
        case .workComplete:
            let (handle, data) = try packet.handleAndData()
            guard let connection = connections[id] else { return }
            complete(handle, data: data, from: connection, now: now, into: &actions)
        case .preSleep:
            guard let connection = connections[id] else { return }
            preSleep(connection, now: now, into: &actions)
        default:
            handle(try GearmanRequest(packet: packet), from: id, now: now, into: &actions)
        }
    }

    // MARK: Timers

    /// A CAN_DO_TIMEOUT ran out: the job goes back to its queue and counts a retry, or, for a background job
    /// of a function with retries (`RetryPolicy`), the attempt failed. A late result from the old worker then
    /// gets JOB_NOT_FOUND.
    public func jobTimedOut(_ handle: JobHandle, attempt: UInt32, now: Int64, into actions: inout [ServerAction]) {
        guard let job = jobs[handle], job.attempt == attempt, case .running(let workerID) = job.state else { return }
        if job.runsDetached, job.function.retries > 0 {
            for waiter in job.waiters {
                actions.append(.send(waiter, .workFail(job.handle)))
            }
            attemptFailed(job, error: "ran past its CAN_DO_TIMEOUT", now: now, into: &actions)
            return
        }
        connections[workerID]?.runningJobs.removeValue(forKey: handle)
        job.function.runningCount -= 1
        retryOrFail(job, now: now, into: &actions)
    }

    /// Queues the SUBMIT_JOB_EPOCH jobs that are due and asks to be woken for the next one.
    public func releaseDueJobs(now: Int64, into actions: inout [ServerAction]) {
        requestedWakeup = nil
        pruneDeadLetters(now: now, into: &actions)
        while let next = scheduledJobs.min, next.epoch <= now {
            scheduledJobs.removeMin()
            guard case .scheduled = next.job.state else { continue }
            next.job.function.scheduledCount -= 1
            enqueue(next.job, into: &actions)
        }
        if let next = scheduledJobs.min {
            requestWakeup(at: next.epoch, into: &actions)
        }
    }

    // MARK: Submitting

    private func submit(
        _ submission: GearmanSubmitJob, from client: ConnectionState, now: Int64, into actions: inout [ServerAction]
    ) {
        submit(
            function: submission.function, unique: submission.unique, workload: submission.workload,
            priority: submission.priority, isBackground: submission.isBackground, epoch: submission.epoch,
            reducer: submission.reducer, from: client, now: now, into: &actions)
    }

    private func submit(
        function name: ByteBuffer, unique: ByteBuffer, workload: ByteBuffer, priority: GearmanPriority,
        isBackground: Bool, epoch: Int64?, reducer: ByteBuffer?, from client: ConnectionState, now: Int64,
        into actions: inout [ServerAction]
    ) {
        guard unique.readableBytes <= configuration.maximumUniqueLength else {
            actions.append(
                .send(client.id, .response(.error(code: "ARGUMENT_TOO_LARGE", message: "Unique value too large"))))
            return
        }
        let function = functionQueue(named: name, lastUsedBy: client)
        let uniqueKey = UniqueKey(function: function, unique: unique, workload: workload)
        if let cachedFunction = function.cachedFunction, let uniqueKey, !isBackground, epoch == nil, reducer == nil,
            let result = resultCache?.result(of: cachedFunction, unique: uniqueKey, now: now)
        {
            function.counts.submitted += 1
            let handle = JobHandle(nextHandle)
            nextHandle += 1
            actions.append(.send(client.id, .jobCreated(handle)))
            actions.append(.send(client.id, .workComplete(handle, data: result)))
            return
        }
        if let uniqueKey, let existing = uniques[uniqueKey] {
            function.counts.submitted += 1
            if !isBackground {
                existing.addWaiter(client.id)
                client.awaitedJobs.insert(existing.handle)
                actions.append(.send(client.id, .jobCreated(existing.handle)))
            } else if configuration.storesBackgroundJobs {
                acknowledgeWhenStored(existing, submitter: client.id, into: &actions)
            } else {
                existing.runsDetached = true
                actions.append(.send(client.id, .jobCreated(existing.handle)))
            }
            return
        }
        guard !function.isFull(at: priority) else {
            actions.append(.send(client.id, .response(.error(code: "QUEUE_ERROR", message: "Job queue is full"))))
            return
        }
        function.counts.submitted += 1
        let handle = JobHandle(nextHandle)
        nextHandle += 1
        let job = Job(
            handle: handle, function: function, unique: unique,
            workload: workload, reducer: reducer, priority: priority,
            runsDetached: isBackground, waiter: isBackground ? .none : client.id)
        jobs[handle] = job
        if let uniqueKey {
            uniques[uniqueKey] = job
        }
        if !isBackground {
            client.awaitedJobs.insert(handle)
        }
        if isBackground, configuration.storesBackgroundJobs {
            job.state = .storing(epoch: epoch)
            function.storingCount += 1
            acknowledgeWhenStored(job, submitter: client.id, into: &actions)
            return
        }
        actions.append(.send(client.id, .jobCreated(handle)))
        start(job, epoch: epoch, now: now, into: &actions)
    }

    /// Queues a job, or schedules it when its epoch is still to come.
    func start(_ job: Job, epoch: Int64?, now: Int64, into actions: inout [ServerAction]) {
        if let epoch, epoch > now {
            job.state = .scheduled(epoch: epoch)
            job.function.scheduledCount += 1
            scheduledJobs.insert(ScheduledJob(epoch: epoch, handle: job.handle, job: job))
            if requestedWakeup.map({ epoch < $0 }) ?? true {
                requestWakeup(at: epoch, into: &actions)
            }
        } else {
            enqueue(job, into: &actions)
        }
    }

    /// A background submitter is acknowledged once the job's row is committed: at once if it already is,
    /// otherwise after the write under way, or after one asked for now (a foreground job that a background
    /// submission joined).
    private func acknowledgeWhenStored(_ job: Job, submitter: ConnectionID, into actions: inout [ServerAction]) {
        job.runsDetached = true
        switch job.storage {
        case .stored:
            actions.append(.send(submitter, .jobCreated(job.handle)))
            return
        case .writing:
            lateAcknowledgements[job.handle, default: []].append(submitter)
        case .none:
            job.storage = .writing
            actions.append(.store(job.stored, StoreReceipt(handle: job.handle, submitter: submitter)))
        }
        actions.append(.send(submitter, .jobCreatedWhenStored(job.handle)))
    }

    // MARK: Store

    /// The store committed these jobs' rows: their submitters get JOB_CREATED and the new jobs are queued.
    public func jobsStored(_ receipts: [StoreReceipt], now: Int64, into actions: inout [ServerAction]) {
        var submitters = SubmitterCache()
        for receipt in receipts {
            acknowledge(receipt, failure: nil, submitters: &submitters, into: &actions)
            guard let job = jobs[receipt.handle] else {
                deadLetterRowWritten(receipt.handle, committed: true)
                continue
            }
            guard job.storage == .writing else { continue }
            job.storage = .stored
            if case .storing(let epoch) = job.state {
                job.function.storingCount -= 1
                start(job, epoch: epoch, now: now, into: &actions)
            }
        }
    }

    /// The store could not write these jobs' rows: their background submitters get ERROR QUEUE_ERROR and
    /// the jobs live on only for the clients that wait on them in the foreground.
    public func jobsNotStored(
        _ receipts: [StoreReceipt], reason: String, now: Int64, into actions: inout [ServerAction]
    ) {
        var submitters = SubmitterCache()
        for receipt in receipts {
            acknowledge(receipt, failure: reason, submitters: &submitters, into: &actions)
            guard let job = jobs[receipt.handle] else {
                deadLetterRowWritten(receipt.handle, committed: false)
                continue
            }
            guard job.storage == .writing else { continue }
            job.storage = .none
            job.runsDetached = false
            if !job.hasWaiters, !job.isRunning {
                discard(job, into: &actions)
            } else if case .storing(let epoch) = job.state {
                job.function.storingCount -= 1
                start(job, epoch: epoch, now: now, into: &actions)
            }
        }
    }

    /// Whether the last submitter looked up is still connected: a transaction's receipts come in runs of
    /// one connection's submits.
    private struct SubmitterCache {
        var last: ConnectionID?
        var isConnected = false
    }

    private func acknowledge(
        _ receipt: StoreReceipt, failure: String?, submitters: inout SubmitterCache, into actions: inout [ServerAction]
    ) {
        if receipt.submitter != submitters.last {
            submitters.last = receipt.submitter
            submitters.isConnected = connections[receipt.submitter] != nil
        }
        if submitters.isConnected {
            actions.append(.send(receipt.submitter, .stored(receipt.handle, failure: failure)))
        }
        guard !lateAcknowledgements.isEmpty, let late = lateAcknowledgements.removeValue(forKey: receipt.handle) else {
            return
        }
        for submitter in late where connections[submitter] != nil {
            actions.append(.send(submitter, .stored(receipt.handle, failure: failure)))
        }
    }

    /// Puts a job read back from the store into its queue, or on its timer, and wakes a worker for it. Call
    /// in the order of `id`; the handles given out afterwards follow the largest `id` seen. Jobs adopted
    /// from another server come with numbers from `reserveHandles`.
    public func restore(_ stored: StoredJob, now: Int64, into actions: inout [ServerAction]) {
        let handle = JobHandle(stored.id)
        nextHandle = max(nextHandle, stored.id &+ 1)
        guard jobs[handle] == nil, deadLetters[handle] == nil else { return }
        let function = functionQueue(named: stored.function)
        if stored.progress.isDead {
            restoreDeadLetter(stored, of: function, now: now, into: &actions)
            return
        }
        let job = Job(
            handle: handle, function: function, unique: stored.unique, workload: stored.workload,
            reducer: stored.reducer, priority: stored.priority, runsDetached: true)
        job.storage = .stored
        if stored.progress != .none {
            job.progress = stored.progress
        }
        jobs[handle] = job
        // Two rows with one unique key can both come back when a crash fell between one's end and the
        // other's start: both run, and later submissions join the older.
        if let key = job.uniqueKey, uniques[key] == nil {
            uniques[key] = job
        }
        start(job, epoch: stored.epoch, now: now, into: &actions)
    }

    /// The store renewed this server's lease, which holds at least until `heldUntil` (Unix time). Past that
    /// time, another server of the group may adopt this one's stored jobs, so none is handed out until the
    /// next renewal; workers passed over meanwhile are woken once it comes.
    public func leaseRenewed(heldUntil: Int64, into actions: inout [ServerAction]) {
        leaseHeldUntil = heldUntil
        guard heldBackStoredJobs else { return }
        heldBackStoredJobs = false
        for function in functions.values {
            for _ in 0..<function.queuedCount {
                guard let workerID = function.popSleeper(isCurrent: isAsleep) else { break }
                connections[workerID]?.isSleeping = false
                actions.append(.send(workerID, .response(.noop)))
            }
        }
    }

    /// Sets aside `count` handle numbers, the first returned, for jobs adopted from a server that died.
    public func reserveHandles(_ count: Int) -> UInt64 {
        let first = nextHandle
        nextHandle += UInt64(count)
        return first
    }

    /// This server's stored jobs now belong to another server of its group, which adopted them when this
    /// one's lease ran out: the queued ones are dropped (the adopter runs them), unless a client waits on
    /// one in the foreground, and none of their rows is deleted here any more. Running ones finish for the
    /// clients that wait on them; the adopter runs them again (at-least-once).
    public func storedJobsLost(into actions: inout [ServerAction]) {
        for letter in deadLetters.byHandle.values where letter.storage == .stored {
            deadLetters.remove(letter.handle)
        }
        let lost = jobs.values.filter { $0.storage == .stored }
        for job in lost {
            job.storage = .none
            job.runsDetached = false
            switch job.state {
            case .queued, .scheduled:
                if !job.hasWaiters { discard(job, into: &actions) }
            case .running, .storing, .gone:
                break
            }
        }
    }

    /// The other servers of the group hold these numbers of stored jobs per function.
    public func groupCounted(queuedElsewhere counts: [ByteBuffer: Int]) {
        queuedElsewhere = counts
    }

    /// Whether an admin command asked for the group's counts since the last call.
    public func takeGroupCountsRequest() -> Bool {
        defer { groupCountsRequested = false }
        return groupCountsRequested
    }

    private func requestWakeup(at epoch: Int64, into actions: inout [ServerAction]) {
        requestedWakeup = epoch
        actions.append(.scheduleEpochWakeup(at: epoch))
    }

    /// A client submits to one function after another, mostly the same: comparing its bytes with the last
    /// one's spares hashing the name.
    private func functionQueue(named name: ByteBuffer, lastUsedBy client: ConnectionState) -> FunctionQueue {
        if let last = client.lastFunction, !last.isDropped, last.name == name {
            return last
        }
        let function = functionQueue(named: name)
        client.lastFunction = function
        return function
    }

    func functionQueue(named name: ByteBuffer) -> FunctionQueue {
        if let function = functions[name] {
            return function
        }
        let ownName = ByteBuffer(bytes: name.readableBytesView)
        let function = FunctionQueue(name: ownName)
        function.timers = configuration.metrics?.jobTimers(for: function.nameString)
        function.cachedFunction = resultCache?.function(named: ownName)
        function.keptResults = resultCache?.keptFunction(named: ownName)
        function.retries = configuration.retryPolicy.retries(for: function.nameString)
        functions[ownName] = function
        return function
    }

    func enqueue(_ job: Job, atFront: Bool = false, into actions: inout [ServerAction]) {
        job.state = .queued
        if let metrics = configuration.metrics {
            job.stamp = metrics.milliseconds()
        }
        if atFront {
            job.function.requeueAtFront(job)
        } else {
            job.sequence = nextSequence
            nextSequence += 1
            job.function.enqueue(job)
        }
        wakeOneSleeper(of: job.function, into: &actions)
    }

    private func wakeOneSleeper(of function: FunctionQueue, into actions: inout [ServerAction]) {
        guard let workerID = function.popSleeper(isCurrent: isAsleep) else { return }
        connections[workerID]?.isSleeping = false
        actions.append(.send(workerID, .response(.noop)))
    }

    private func isAsleep(_ id: ConnectionID, sleep: UInt64) -> Bool {
        guard let connection = connections[id] else { return false }
        return connection.isSleeping && connection.sleep == sleep
    }

    // MARK: Workers

    private func canDo(_ name: ByteBuffer, timeout: UInt32?, for worker: ConnectionState) {
        let function = functionQueue(named: name)
        if let index = worker.ability(for: function) {
            worker.abilities[index].timeout = timeout
            return
        }
        worker.abilities.append(.init(function: function, timeout: timeout))
        function.workerCount += 1
        if worker.isSleeping {
            function.addSleeper(worker.id, sleep: worker.sleep, isCurrent: isAsleep)
        }
    }

    private func preSleep(_ worker: ConnectionState, now: Int64, into actions: inout [ServerAction]) {
        let holdsStoredJobs = now >= leaseHeldUntil
        if worker.abilities.contains(where: { hasJobToHandOut($0.function, holdingStoredJobs: holdsStoredJobs) }) {
            worker.isSleeping = false
            actions.append(.send(worker.id, .response(.noop)))
            return
        }
        worker.isSleeping = true
        worker.sleep += 1
        for ability in worker.abilities {
            ability.function.addSleeper(worker.id, sleep: worker.sleep, isCurrent: isAsleep)
        }
    }

    private func grab(
        _ mode: GearmanGrabMode, for worker: ConnectionState, now: Int64, into actions: inout [ServerAction]
    ) {
        worker.isSleeping = false
        guard let job = nextJob(for: worker, holdingStoredJobs: now >= leaseHeldUntil) else {
            actions.append(.send(worker.id, .response(.noJob)))
            return
        }
        job.state = .running(worker: worker.id)
        job.attempt += 1
        job.function.runningCount += 1
        if let metrics = configuration.metrics, let timers = job.function.timers {
            let now = metrics.milliseconds()
            timers.recordWait(milliseconds: now &- job.stamp)
            job.stamp = now
        }
        worker.runningJobs[job.handle] = job
        actions.append(
            .send(
                worker.id,
                .jobAssign(
                    job.handle, mode, function: job.function.name, unique: job.unique, reducer: job.reducer,
                    workload: job.workload)))
        if let index = worker.ability(for: job.function), let timeout = worker.abilities[index].timeout, timeout > 0 {
            actions.append(.startJobTimeout(job.handle, attempt: job.attempt, milliseconds: timeout))
        }
    }

    /// The oldest job of the highest priority among the worker's functions: priority is global. While
    /// `holdingStoredJobs`, a queue whose oldest job is stored is passed over.
    private func nextJob(for worker: ConnectionState, holdingStoredJobs: Bool) -> Job? {
        for priority in GearmanPriority.allCases {
            var best: (function: FunctionQueue, sequence: UInt64)?
            for ability in worker.abilities {
                guard let head = ability.function.head(at: priority) else { continue }
                if holdingStoredJobs, head.storage == .stored {
                    heldBackStoredJobs = true
                    continue
                }
                if best.map({ head.sequence < $0.sequence }) ?? true {
                    best = (ability.function, head.sequence)
                }
            }
            if let best {
                return best.function.removeHead(at: priority)
            }
        }
        return nil
    }

    private func complete(
        _ handle: ByteBuffer, data: ByteBuffer, from worker: ConnectionState, now: Int64,
        into actions: inout [ServerAction]
    ) {
        guard let job = runningJob(handle, of: worker, into: &actions) else { return }
        job.function.counts.completed += 1
        recordRunTime(of: job)
        if let cachedFunction = job.function.cachedFunction {
            keepResult(data, of: job, in: cachedFunction, now: now)
        }
        if job.runsDetached {
            backgroundJobCompleted(job, data: data, now: now, into: &actions)
        }
        forward(.workComplete(handle: handle, data: data), of: job, into: &actions)
        discard(job, into: &actions)
    }

    /// A job that streamed WORK_DATA ends with only the rest of its result, and a reduce job's result depends on
    /// its reducer: neither is kept.
    private func keepResult(_ data: ByteBuffer, of job: Job, in cachedFunction: CachedFunction, now: Int64) {
        guard let resultCache, let uniqueKey = job.uniqueKey, !job.resultIsPartial, job.reducer == nil else { return }
        resultCache.keep(data, of: cachedFunction, unique: uniqueKey, now: now)
    }

    private func runningJob(
        _ handleBytes: ByteBuffer, of worker: ConnectionState, into actions: inout [ServerAction]
    ) -> Job? {
        if let handle = handleFormat.parse(handleBytes), let job = worker.runningJobs[handle] {
            return job
        }
        actions.append(
            .send(worker.id, .response(.error(code: "JOB_NOT_FOUND", message: "Job given in work result not found"))))
        return nil
    }

    private func forward(_ response: GearmanResponse, of job: Job, into actions: inout [ServerAction]) {
        for waiter in job.waiters {
            actions.append(.send(waiter, .response(response)))
        }
    }

    private func requeueRunningJobs(
        of worker: ConnectionState, now: Int64, into actions: inout [ServerAction],
        where shouldRequeue: (Job) -> Bool
    ) {
        for job in worker.runningJobs.values where shouldRequeue(job) {
            worker.runningJobs.removeValue(forKey: job.handle)
            job.function.runningCount -= 1
            retryOrFail(job, now: now, into: &actions)
        }
    }

    /// A running job lost its worker (already unlinked from it): queue it again, or fail it when its
    /// retries are spent or nobody wants it any more. A background job that fails so has failed an attempt.
    private func retryOrFail(_ job: Job, now: Int64, into actions: inout [ServerAction]) {
        job.retries += 1
        job.function.counts.retried += 1
        job.state = .gone
        if configuration.jobRetries > 0, job.retries >= configuration.jobRetries {
            for waiter in job.waiters {
                actions.append(.send(waiter, .workFail(job.handle)))
            }
            attemptFailed(
                job, error: "its worker was lost \(job.retries) times (--job-retries)", now: now, into: &actions)
        } else if !job.hasWaiters, !job.runsDetached {
            discard(job, into: &actions)
        } else {
            enqueue(job, atFront: true, into: &actions)
        }
    }

    private func recordRunTime(of job: Job) {
        if let metrics = configuration.metrics, let timers = job.function.timers {
            timers.recordRun(milliseconds: metrics.milliseconds() &- job.stamp)
        }
    }

    /// Whether a worker of `function` may be given a job now; notes a stored job held back.
    private func hasJobToHandOut(_ function: FunctionQueue, holdingStoredJobs: Bool) -> Bool {
        guard function.queuedCount > 0 else { return false }
        guard holdingStoredJobs else { return true }
        if GearmanPriority.allCases.contains(where: { function.head(at: $0).map { $0.storage != .stored } ?? false }) {
            return true
        }
        heldBackStoredJobs = true
        return false
    }

    // MARK: Bookkeeping

    /// Removes a job for good, whatever its state. Queued jobs stay in their deque as gone until they reach
    /// the front, which keeps removal O(1).
    func discard(_ job: Job, into actions: inout [ServerAction]) {
        detach(job)
        if job.isStored {
            job.storage = .none
            actions.append(.forget(job.handle))
        }
        jobs.removeValue(forKey: job.handle)
        if let key = job.uniqueKey, uniques[key] === job {
            uniques.removeValue(forKey: key)
        }
        for waiter in job.waiters {
            connections[waiter]?.awaitedJobs.remove(job.handle)
        }
        job.removeAllWaiters()
    }

    /// Takes a job out of the queue, schedule, store write or worker it is in, and marks it gone.
    func detach(_ job: Job) {
        switch job.state {
        case .queued:
            job.function.forgetQueued(job)
        case .scheduled:
            job.function.scheduledCount -= 1
        case .storing:
            job.function.storingCount -= 1
        case .running(let workerID):
            connections[workerID]?.runningJobs.removeValue(forKey: job.handle)
            job.function.runningCount -= 1
        case .gone:
            break
        }
        job.state = .gone
    }

    private func status(of job: Job?, key: ByteBuffer) -> GearmanJobStatus {
        guard let job else {
            return GearmanJobStatus(key: key, isKnown: false, isRunning: false)
        }
        return GearmanJobStatus(
            key: key, isKnown: true, isRunning: job.isRunning, numerator: job.numerator,
            denominator: job.denominator)
    }

    /// GET_STATUS_UNIQUE names no function, so every function's index is asked.
    private func jobWithUnique(_ unique: ByteBuffer) -> Job? {
        for function in functions.values {
            if let job = uniques[UniqueKey(function: function, unique: unique)] {
                return job
            }
        }
        return nil
    }
}

/// A SUBMIT_JOB_EPOCH job waiting for its time, ordered by time and then by arrival.
struct ScheduledJob: Comparable {
    let epoch: Int64
    let handle: JobHandle
    let job: Job

    static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.epoch, lhs.handle) < (rhs.epoch, rhs.handle)
    }

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.epoch == rhs.epoch && lhs.handle == rhs.handle
    }
}
