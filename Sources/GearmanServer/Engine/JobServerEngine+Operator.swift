import GearmanProtocol
import HeapModule
import NIOCore

/// What the operator's dashboard and API read from the engine. Each list is cut to `limit` rows; the work is
/// linear in the functions, connections, scheduled jobs and dead letters (never in the queued jobs).
extension JobServerEngine {
    struct OperatorSnapshot {
        var functions: [OperatorOverview.Function]
        var functionsTotal: Int
        var workers: [OperatorOverview.Worker]
        var workersTotal: Int
        var scheduled: [OperatorOverview.ScheduledJob]
        var scheduledTotal: Int
        var dead: [OperatorOverview.DeadLetter]
        var deadTotal: Int
        var connections: Int
    }

    /// Functions whose name contains `filter`, most queued first, then by name.
    func operatorSnapshot(limit: Int, filter: String?, now: Int64) -> OperatorSnapshot {
        let filter = filter.flatMap { $0.isEmpty ? nil : $0.lowercased() }
        var matching = functions.values.filter { filter == nil || $0.nameString.lowercased().contains(filter!) }
        matching.sort { ($0.queuedCount, $1.nameString) > ($1.queuedCount, $0.nameString) }
        let shownFunctions = matching.prefix(limit).map { function in
            let queued = function.queuedCounts
            let counts = function.counts
            return OperatorOverview.Function(
                name: function.nameString, queued: queued, running: function.runningCount,
                workers: function.workerCount, scheduled: function.scheduledCount,
                dead: deadLetters.counts[function.name] ?? 0, submitted: counts.submitted, completed: counts.completed,
                failed: counts.failed, exceptions: counts.exceptions, retried: counts.retried,
                waitMilliseconds: function.timers?.waitBuckets.percentiles,
                runMilliseconds: function.timers?.runBuckets.percentiles)
        }
        let workers = connections.values.filter { !$0.abilities.isEmpty }.sorted { $0.id < $1.id }
        let shownWorkers = workers.prefix(limit).map { worker in
            OperatorOverview.Worker(
                id: worker.id.rawValue, address: worker.host, clientID: worker.clientID, tlsName: worker.tlsName,
                functions: worker.abilities.map(\.function.nameString), running: worker.runningJobs.count)
        }
        let (soonest, scheduledTotal) = soonestScheduledJobs(limit)
        return OperatorSnapshot(
            functions: shownFunctions, functionsTotal: matching.count, workers: shownWorkers,
            workersTotal: workers.count,
            scheduled: soonest.map { job in
                OperatorOverview.ScheduledJob(
                    handle: handleFormat.string(for: job.handle), function: job.job.function.nameString,
                    unique: String(buffer: job.job.unique), due: job.epoch, attempts: Int(job.job.progress.attempts))
            },
            scheduledTotal: scheduledTotal,
            dead: deadLetters.mostRecent(limit).map { letter in
                OperatorOverview.DeadLetter(
                    handle: handleFormat.string(for: letter.handle), function: letter.function.nameString,
                    unique: String(buffer: letter.unique), attempts: Int(letter.attempts), error: letter.lastError,
                    firstFailed: letter.firstFailed, lastFailed: letter.lastFailed)
            },
            deadTotal: deadLetters.count, connections: connections.count)
    }

    /// The `limit` scheduled jobs due first, in that order, and how many are scheduled: one pass over the
    /// heap keeping the soonest in a heap of `limit`.
    private func soonestScheduledJobs(_ limit: Int) -> ([ScheduledJob], Int) {
        var soonest = Heap<ScheduledJob>()
        var total = 0
        for entry in scheduledJobs.unordered {
            guard case .scheduled(let epoch) = entry.job.state, epoch == entry.epoch else { continue }
            total += 1
            if soonest.count < limit {
                soonest.insert(entry)
            } else if let latest = soonest.max, entry < latest {
                soonest.replaceMax(with: entry)
            }
        }
        var ordered: [ScheduledJob] = []
        ordered.reserveCapacity(soonest.count)
        while let next = soonest.popMin() {
            ordered.append(next)
        }
        return (ordered, total)
    }

    /// One job by handle: queued, running or scheduled, a dead letter, or a background job whose result is kept.
    public func operatorReport(handle text: String, now: Int64) -> JobReport? {
        guard let handle = handleFormat.parse(text) else { return nil }
        let handleText = handleFormat.string(for: handle)
        if let job = jobs[handle] {
            let progress = job.progress
            let state: JobReport.State
            var due: Int64?
            switch job.state {
            case .queued, .storing: state = .queued
            case .running: state = .running
            case .scheduled(let epoch):
                state = progress.attempts > 0 ? .retrying : .scheduled
                due = epoch
            case .gone: return nil
            }
            return JobReport(
                handle: handleText, function: job.function.nameString, unique: String(buffer: job.unique),
                state: state, attempts: Int(progress.attempts), lastError: progress.lastError, due: due)
        }
        if let letter = deadLetters[handle] {
            return JobReport(
                handle: handleText, function: letter.function.nameString, unique: String(buffer: letter.unique),
                state: .dead, attempts: Int(letter.attempts), lastError: letter.lastError)
        }
        if let (data, function, kept, expires) = resultCache?.keptResult(of: handle, now: now) {
            return JobReport(
                handle: handleText, function: function, unique: "",
                state: .completed, attempts: 0, completed: kept, expires: expires, result: data)
        }
        return nil
    }
}
