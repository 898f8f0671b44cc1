import GearmanProtocol
import NIOCore

/// Background jobs that fail: retried after a backoff (`RetryPolicy`), kept as dead letters after their last
/// attempt (`DeadLetterPolicy`), and reported to the event hooks.
extension JobServerEngine {
    /// The longest error text kept from a WORK_EXCEPTION.
    static let maximumErrorLength = 1024

    static func errorText(_ data: ByteBuffer) -> String {
        let text = String(buffer: data.getSlice(at: data.readerIndex, length: min(data.readableBytes, 4096)) ?? data)
        let printable = text.map { $0.isNewline || $0 == "\t" ? " " : $0 }
        return String(String(printable).prefix(maximumErrorLength))
    }

    /// An attempt of `job` failed (its clients were told already). A foreground-only job is dropped, as
    /// always; a background job is queued again after its backoff while it has retries left, and becomes a
    /// dead letter after its last.
    func attemptFailed(_ job: Job, error: String, now: Int64, into actions: inout [ServerAction]) {
        guard job.runsDetached else {
            discard(job, into: &actions)
            return
        }
        for waiter in job.waiters {
            connections[waiter]?.awaitedJobs.remove(job.handle)
        }
        job.removeAllWaiters()
        var progress = job.progress
        progress.attempts += 1
        progress.lastError = error
        progress.firstFailed = progress.firstFailed ?? now
        progress.lastFailed = now
        job.progress = progress
        report(.failed, of: job, error: error, now: now, into: &actions)
        guard progress.attempts > job.function.retries else {
            let seed = job.handle.number ^ (UInt64(progress.attempts) << 48)
            // The engine's clock counts whole seconds and `now` is the second under way: the job is due in the
            // second after its backoff has passed, so it waits at least its backoff and at most a second more.
            let due = now + configuration.retryPolicy.delay(afterFailures: progress.attempts, seed: seed) + 1
            detach(job)
            job.retries = 0
            start(job, epoch: due, now: now, into: &actions)
            if job.isStored {
                actions.append(.update(job.stored))
            }
            report(.retrying, of: job, error: error, now: now, retryAt: due, into: &actions)
            return
        }
        let keep = configuration.deadLetterPolicy.maximumCount > 0
        let letter = DeadLetter(
            handle: job.handle, function: job.function, unique: job.unique, workload: job.workload,
            reducer: job.reducer, priority: job.priority, attempts: progress.attempts, lastError: error,
            firstFailed: progress.firstFailed ?? now, lastFailed: now, storage: job.storage)
        if keep, job.isStored {
            // The row stays, marked dead: the delete that `discard` would ask for becomes an update.
            job.storage = .none
            actions.append(.update(letter.stored))
        }
        discard(job, into: &actions)
        guard keep else { return }
        deadLetters.add(letter)
        report(.dead, of: job, error: error, now: now, into: &actions)
        pruneDeadLetters(now: now, into: &actions)
    }

    /// A background job's WORK_COMPLETE: its result is kept when its function's are (`--keep-results`).
    func backgroundJobCompleted(_ job: Job, data: ByteBuffer, now: Int64, into actions: inout [ServerAction]) {
        if let kept = job.function.keptResults, !job.resultIsPartial {
            resultCache?.keep(data, of: kept, handle: job.handle, now: now)
        }
        report(.completed, of: job, error: nil, now: now, into: &actions)
    }

    func restoreDeadLetter(
        _ stored: StoredJob, of function: FunctionQueue, now: Int64, into actions: inout [ServerAction]
    ) {
        let progress = stored.progress
        deadLetters.add(
            DeadLetter(
                handle: JobHandle(stored.id), function: function, unique: stored.unique, workload: stored.workload,
                reducer: stored.reducer, priority: stored.priority, attempts: progress.attempts,
                lastError: progress.lastError ?? "", firstFailed: progress.firstFailed ?? now,
                lastFailed: progress.lastFailed ?? now, storage: .stored))
        pruneDeadLetters(now: now, into: &actions)
    }

    /// The store ended the write of a row whose job died while it was being written. Committed, the dead letter
    /// has its row. Failed, the letter goes: the background submission that made the job's failure worth keeping
    /// was refused (its submitter got ERROR QUEUE_ERROR), and a job that only foreground clients wanted is not
    /// kept when it fails.
    func deadLetterRowWritten(_ handle: JobHandle, committed: Bool) {
        guard let letter = deadLetters[handle], letter.storage == .writing else { return }
        if committed {
            letter.storage = .stored
        } else {
            deadLetters.remove(handle)
        }
    }

    /// Drops the dead letters past their retention or beyond the count, oldest first, with their rows.
    func pruneDeadLetters(now: Int64, into actions: inout [ServerAction]) {
        let policy = configuration.deadLetterPolicy
        let oldestKept = now - policy.retentionSeconds
        while let letter = deadLetters.removeOldest(diedBefore: oldestKept, orBeyond: policy.maximumCount) {
            if letter.isStored {
                actions.append(.forget(letter.handle))
            }
        }
    }

    /// The dead letters of `function` (all of them, or the one with `handle`), queued again as new
    /// background jobs under their handles, with their attempts counted from zero. Returns how many.
    func retryDeadLetters(
        of function: String, handle handleText: String?, now: Int64, into actions: inout [ServerAction]
    ) -> Int {
        var retried = 0
        for letter in matchingDeadLetters(of: function, handle: handleText) {
            deadLetters.remove(letter.handle)
            // The queue it died in may have been dropped since.
            let function = functionQueue(named: letter.function.name)
            let job = Job(
                handle: letter.handle, function: function, unique: letter.unique, workload: letter.workload,
                reducer: letter.reducer, priority: letter.priority, runsDetached: true)
            function.counts.submitted += 1
            jobs[job.handle] = job
            if let key = job.uniqueKey, uniques[key] == nil {
                uniques[key] = job
            }
            if letter.isStored {
                job.storage = letter.storage
                actions.append(.update(job.stored))
            }
            enqueue(job, into: &actions)
            retried += 1
        }
        return retried
    }

    /// Removes the dead letters of `function` (all, or the one with `handle`) and their rows; returns how many.
    func purgeDeadLetters(of function: String, handle handleText: String?, into actions: inout [ServerAction]) -> Int {
        let letters = matchingDeadLetters(of: function, handle: handleText)
        for letter in letters {
            deadLetters.remove(letter.handle)
            if letter.isStored {
                actions.append(.forget(letter.handle))
            }
        }
        return letters.count
    }

    private func matchingDeadLetters(of function: String, handle handleText: String?) -> [DeadLetter] {
        let name = ByteBuffer(string: function)
        if let handleText {
            guard let handle = handleFormat.parse(handleText), let letter = deadLetters[handle],
                letter.function.name == name
            else { return [] }
            return [letter]
        }
        return deadLetters.letters(of: name).reversed()
    }

    private func report(
        _ kind: JobEvent.Kind, of job: Job, error: String?, now: Int64, retryAt: Int64? = nil,
        into actions: inout [ServerAction]
    ) {
        guard configuration.reportsEvents else { return }
        let attempt = Int(job.progress.attempts) + (kind == .completed ? 1 : 0)
        actions.append(
            .event(
                JobEvent(
                    event: kind, function: job.function.nameString, handle: handleFormat.string(for: job.handle),
                    unique: String(buffer: job.unique), attempt: attempt, error: error, time: now, retryAt: retryAt)))
    }
}
