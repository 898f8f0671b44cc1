import GearmanProtocol

extension JobServerEngine {
    /// How many connections the engine knows.
    public var connectionCount: Int { connections.count }

    /// Jobs known, in any state.
    public var jobCount: Int { jobs.count }

    /// Background jobs kept after their last attempt failed.
    public var deadLetterCount: Int { deadLetters.count }

    /// Jobs held by workers now, from the functions' counters: O(functions), not O(jobs).
    public var runningJobCount: Int { functions.values.reduce(0) { $0 + $1.runningCount } }

    /// Whether the engine knows the connection: it was opened and has not closed.
    public func knows(_ id: ConnectionID) -> Bool { connections[id] != nil }

    /// Checks the engine's bookkeeping against itself and returns every disagreement found; empty when the
    /// state is consistent. Costs O(jobs + connections): for tests and fuzzers, never on the hot path.
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        var queuedPlaces: [JobHandle: Int] = [:]
        for (name, function) in functions {
            let label = String(buffer: name)
            var live = [0, 0, 0]
            for (priority, job) in function.heldJobs where !job.isGone {
                guard case .queued = job.state else {
                    problems.append("\(label): job \(job.handle) sits in a queue while \(job.state)")
                    continue
                }
                if job.priority != priority || job.function !== function {
                    problems.append("\(label): job \(job.handle) is in the wrong queue")
                }
                live[priority.rawValue] += 1
                queuedPlaces[job.handle, default: 0] += 1
            }
            if live != function.queuedCounts {
                problems.append("\(label): queued counts \(function.queuedCounts) but the queues hold \(live)")
            }
            var running = 0
            var scheduled = 0
            var storing = 0
            for job in jobs.values where job.function === function {
                switch job.state {
                case .running: running += 1
                case .scheduled: scheduled += 1
                case .storing: storing += 1
                case .queued, .gone: break
                }
            }
            if running != function.runningCount {
                problems.append("\(label): running count \(function.runningCount) but \(running) jobs run")
            }
            if scheduled != function.scheduledCount {
                problems.append("\(label): scheduled count \(function.scheduledCount) but \(scheduled) jobs wait")
            }
            if storing != function.storingCount {
                problems.append("\(label): storing count \(function.storingCount) but \(storing) jobs are stored")
            }
            let workers = connections.values.filter { $0.ability(for: function) != nil }.count
            if workers != function.workerCount {
                problems.append("\(label): worker count \(function.workerCount) but \(workers) workers")
            }
            if functions[function.name] !== function {
                problems.append("\(label): registered under another name")
            }
        }
        for (handle, job) in jobs.entries {
            if job.handle != handle { problems.append("job \(job.handle) is filed under \(handle)") }
            switch job.state {
            case .queued:
                if queuedPlaces[handle] != 1 {
                    problems.append("job \(handle) is queued \(queuedPlaces[handle] ?? 0) times")
                }
            case .running(let worker):
                if connections[worker]?.runningJobs[handle] !== job {
                    problems.append("job \(handle) runs on \(worker), which does not hold it")
                }
            case .scheduled:
                break
            case .storing:
                if job.storage != .writing {
                    problems.append("job \(handle) waits for its row, which is \(job.storage)")
                }
            case .gone:
                problems.append("job \(handle) is gone but still known")
            }
            for waiter in job.waiters where connections[waiter]?.awaitedJobs.contains(handle) != true {
                problems.append("job \(handle) has waiter \(waiter), which does not wait on it")
            }
        }
        for (id, connection) in connections {
            for (handle, job) in connection.runningJobs {
                guard jobs[handle] === job, case .running(let worker) = job.state, worker == id else {
                    problems.append("connection \(id) holds job \(handle), which is not running there")
                    continue
                }
            }
        }
        for (handle, submitters) in lateAcknowledgements {
            if let job = jobs[handle], job.storage != .writing {
                problems.append("job \(handle) has submitters awaiting a row that is \(job.storage)")
            }
            if submitters.isEmpty { problems.append("job \(handle) awaits its row for nobody") }
        }
        if !configuration.storesBackgroundJobs,
            jobs.values.contains(where: { $0.isStored }) || !lateAcknowledgements.isEmpty
        {
            problems.append("a job is stored by an engine without a store")
        }
        for (key, job) in uniques where jobs[job.handle] !== job {
            problems.append("unique key \(key) names job \(job.handle), which is not known")
        }
        if let resultCache {
            problems += resultCache.invariantViolations()
        }
        if deadLetters.counts.values.reduce(0, +) != deadLetters.count {
            problems.append("dead letters: \(deadLetters.count) kept, counted \(deadLetters.counts) by function")
        }
        for letter in deadLetters.byHandle.values where jobs[letter.handle] != nil {
            problems.append("dead letter \(letter.handle) is also a live job")
        }
        return problems
    }
}
