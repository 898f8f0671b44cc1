import GearmanProtocol
import GearmanServer
import NIOCore
import Testing

/// Background jobs that fail: retried after a backoff, kept as dead letters after their last attempt,
/// retried and purged by admin commands, reported as events, and kept in the store's rows.
@Suite struct RetryTests {
    private func harness(
        retries: Int = 2, storesBackgroundJobs: Bool = false, deadLetters: DeadLetterPolicy = DeadLetterPolicy(),
        keptResults: [String: Duration] = [:]
    ) -> EngineHarness {
        EngineHarness(
            storesBackgroundJobs: storesBackgroundJobs,
            resultCache: keptResults.isEmpty ? nil : ResultCacheConfiguration(keptResults: keptResults),
            retryPolicy: RetryPolicy(
                retries: ["f": retries], minimumBackoff: .seconds(1), maximumBackoff: .seconds(60)),
            deadLetterPolicy: deadLetters, reportsEvents: true)
    }

    private func events(_ harness: EngineHarness) -> [JobEvent] {
        harness.takeOtherActions().compactMap {
            if case .event(let event) = $0 { return event }
            return nil
        }
    }

    private func wakeups(_ actions: [ServerAction]) -> [Int64] {
        actions.compactMap {
            if case .scheduleEpochWakeup(let epoch) = $0 { return epoch }
            return nil
        }
    }

    @Test func aJobThatFailsTwiceCompletesOnItsThirdAttemptAfterItsBackoffs() throws {
        let harness = harness()
        let client = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", "payload", unique: "u1", background: true, from: client))
        let start = harness.now

        #expect(try #require(harness.grab(worker)).workload == "payload")
        harness.send(.workFail(handle: handle), from: worker)
        var actions = harness.takeOtherActions()
        let firstDue = try #require(wakeups(actions).first)
        #expect(firstDue == start + 2, "the first retry waits the minimum, in the second after it")
        #expect(harness.grab(worker) == nil, "nothing is handed out during the backoff")
        #expect(harness.admin("status", from: client) == "f\t1\t0\t1\n.\n", "a job in its backoff still counts")

        harness.now = firstDue
        harness.releaseDueJobs()
        _ = harness.takeOtherActions()
        #expect(try #require(harness.grab(worker)).handle == handle)
        harness.send(.workException(handle: handle, data: ByteBuffer(string: "boom\nagain")), from: worker)
        actions = harness.takeOtherActions()
        let secondDue = try #require(wakeups(actions).first)
        #expect((3...4).contains(secondDue - harness.now), "the second waits twice the first, plus jitter")
        let failed = actions.compactMap { action -> JobEvent? in
            if case .event(let event) = action { return event }
            return nil
        }
        #expect(failed.map(\.event) == [.failed, .retrying])
        #expect(failed.first?.error == "boom again")
        #expect(failed.first?.attempt == 2)
        #expect(failed.last?.retryAt == secondDue)

        harness.now = secondDue
        harness.releaseDueJobs()
        _ = harness.takeOtherActions()
        #expect(try #require(harness.grab(worker)).handle == handle)
        harness.complete(handle, "done", from: worker)
        let completed = events(harness)
        #expect(completed.map(\.event) == [.completed])
        #expect(completed.first?.attempt == 3)
        #expect(harness.admin("status", from: client) == "f\t0\t0\t1\n.\n")
        #expect(harness.admin("dead", from: client) == ".\n")
    }

    @Test func aJobThatAlwaysFailsBecomesADeadLetterThatCanBeRetriedAndPurged() throws {
        let harness = harness(retries: 1)
        let admin = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", "w", unique: "key", background: true, from: admin))
        _ = try #require(harness.grab(worker))
        harness.send(.workFail(handle: handle), from: worker)
        #expect(events(harness).map(\.event) == [.failed, .retrying])
        harness.now += 60
        harness.releaseDueJobs()
        _ = try #require(harness.grab(worker))
        harness.send(.workException(handle: handle, data: ByteBuffer(string: "disk full")), from: worker)
        #expect(events(harness).map(\.event) == [.failed, .dead])
        #expect(harness.admin("status", from: admin) == "f\t0\t0\t1\n.\n", "a dead letter is not queued")
        let handleText = handle.string
        #expect(harness.admin("dead", from: admin) == "\(handleText)\tf\t2\tkey\tdisk full\n.\n")
        #expect(harness.admin("dead f", from: admin) == "\(handleText)\tf\t2\tkey\tdisk full\n.\n")
        #expect(harness.admin("dead g", from: admin) == ".\n")

        let outsider = harness.connect(host: "10.1.2.3")
        #expect(harness.admin("retry dead f", from: outsider).hasPrefix("ERR PERMISSION_DENIED"))
        #expect(harness.admin("retry dead f \(handleText)", from: admin) == "OK 1\n")
        #expect(harness.admin("dead", from: admin) == ".\n")
        let retried = try #require(harness.grab(worker))
        #expect(retried.handle == handle, "a retried dead letter keeps its handle")
        harness.send(.workFail(handle: handle), from: worker)
        harness.now += 60
        harness.releaseDueJobs()
        _ = try #require(harness.grab(worker))
        harness.send(.workFail(handle: handle), from: worker)
        #expect(harness.admin("dead", from: admin).hasPrefix("\(handleText)\tf\t2\tkey\tWORK_FAIL\n"))
        #expect(harness.admin("purge dead f", from: admin) == "OK 1\n")
        #expect(harness.admin("dead", from: admin) == ".\n")
        #expect(harness.admin("purge dead f", from: admin) == "OK 0\n")
    }

    @Test func foregroundJobsFailAsBeforeAndAreNeverRetried() throws {
        let harness = harness()
        let client = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", from: client))
        _ = try #require(harness.grab(worker))
        harness.send(.workFail(handle: handle), from: worker)
        #expect(harness.take(client).contains { if case .workFail = $0 { return true } else { return false } })
        #expect(events(harness).isEmpty)
        #expect(harness.admin("status", from: client) == "f\t0\t0\t1\n.\n")
        #expect(harness.admin("dead", from: client) == ".\n")
    }

    @Test func withoutRetriesAFailedBackgroundJobIsKeptAsADeadLetterAtOnce() throws {
        let harness = harness(retries: 0)
        let client = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", background: true, from: client))
        _ = try #require(harness.grab(worker))
        harness.send(.workFail(handle: handle), from: worker)
        #expect(events(harness).map(\.event) == [.failed, .dead])
        #expect(harness.admin("dead", from: client).contains("\tf\t1\t\tWORK_FAIL\n"))
    }

    @Test func deadLettersBeyondTheCountOrPastTheirRetentionGo() throws {
        let harness = harness(retries: 0, deadLetters: DeadLetterPolicy(retention: .seconds(100), maximumCount: 2))
        let client = harness.connect()
        let worker = harness.worker("f")
        var handles: [String] = []
        for index in 0..<3 {
            let handle = try #require(harness.submit("f", "w\(index)", background: true, from: client))
            _ = try #require(harness.grab(worker))
            harness.send(.workFail(handle: handle), from: worker)
            handles.append(handle.string)
            harness.now += 10
        }
        let listed = harness.admin("dead", from: client)
        #expect(!listed.contains(handles[0] + "\t"), "the oldest went beyond the count")
        #expect(listed.contains(handles[1] + "\t") && listed.contains(handles[2] + "\t"))
        harness.now += 85
        #expect(!harness.admin("dead", from: client).contains(handles[1] + "\t"), "past its retention")
        #expect(harness.admin("dead", from: client).contains(handles[2] + "\t"))
    }

    @Test func aTimeoutIsAFailedAttemptForAFunctionWithRetries() throws {
        let harness = harness()
        let client = harness.connect()
        let worker = harness.connect()
        harness.send(.canDoTimeout(function: ByteBuffer(string: "f"), timeout: 1000), from: worker)
        let handle = try #require(harness.submit("f", background: true, from: client))
        _ = try #require(harness.grab(worker))
        let job = try #require(harness.engine.handleFormat.parse(handle))
        _ = harness.takeOtherActions()
        harness.timeOut(job, attempt: 1)
        let reported = events(harness)
        #expect(reported.map(\.event) == [.failed, .retrying])
        #expect(reported.first?.error == "ran past its CAN_DO_TIMEOUT")
    }

    @Test func storedJobsKeepTheirProgressAndDeadLettersInTheirRows() throws {
        let harness = harness(retries: 1, storesBackgroundJobs: true)
        let client = harness.connect()
        let worker = harness.worker("f")
        _ = harness.submit("f", "w", unique: "u", background: true, from: client)
        let row = try #require(harness.commitStore().first)
        _ = harness.take(client)
        let handle = try #require(harness.grab(worker)).handle
        harness.send(.workFail(handle: handle), from: worker)
        let retrying = harness.takeOtherActions().compactMap { action -> StoredJob? in
            if case .update(let job) = action { return job }
            return nil
        }
        #expect(retrying.count == 1)
        #expect(retrying.first?.id == row.id)
        #expect(retrying.first?.progress.attempts == 1)
        #expect(retrying.first?.progress.isDead == false)
        #expect(retrying.first?.epoch == harness.now + 2, "the row holds the retry's due time")

        harness.now += 60
        harness.releaseDueJobs()
        _ = try #require(harness.grab(worker))
        harness.send(.workFail(handle: handle), from: worker)
        let actions = harness.takeOtherActions()
        let dead = actions.compactMap { action -> StoredJob? in
            if case .update(let job) = action { return job }
            return nil
        }
        #expect(dead.first?.progress.isDead == true)
        #expect(dead.first?.progress.attempts == 2)
        #expect(!actions.contains { if case .forget = $0 { return true } else { return false } }, "the row stays")

        // After a restart, the rows come back as they were left.
        let restarted = self.harness(retries: 1, storesBackgroundJobs: true)
        let admin = restarted.connect()
        var retryingRow = row
        retryingRow.id = 7
        retryingRow.epoch = restarted.now + 30
        retryingRow.progress = JobProgress(attempts: 1, lastError: "WORK_FAIL", firstFailed: 1, lastFailed: 2)
        restarted.restore([try #require(dead.first), retryingRow])
        #expect(restarted.admin("dead", from: admin) == "\(handle.string)\tf\t2\tu\tWORK_FAIL\n.\n")
        let report = try #require(restarted.engine.operatorReport(handle: "H:test:7", now: restarted.now))
        #expect(report.state == .retrying)
        #expect(report.attempts == 1)
        #expect(restarted.admin("purge dead f", from: admin) == "OK 1\n")
        #expect(restarted.takeDeletes() == [row.id])
    }

    /// A foreground job that a background submission joined fails while the row that submission asked for is
    /// still being written: the dead letter has that row once it is committed, and goes with the refused
    /// submission when the write fails, leaving no row to delete.
    @Test(arguments: [true, false])
    func aJobThatDiesWhileItsRowIsWrittenKeepsItsDeadLetterOnlyIfTheRowIsCommitted(_ commits: Bool) throws {
        let harness = harness(retries: 0, storesBackgroundJobs: true)
        let client = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", "w", unique: "u", from: client))
        let number = try #require(harness.engine.handleFormat.parse(handle)).number
        _ = try #require(harness.grab(worker))
        _ = harness.submit("f", "w", unique: "u", background: true, from: client)
        harness.send(.workFail(handle: handle), from: worker)
        #expect(harness.engine.deadLetterCount == 1)
        if commits {
            #expect(harness.commitStore().map(\.id) == [number])
        } else {
            harness.failStore("disk full")
        }
        let listed = harness.admin("dead", from: client)
        #expect(listed == (commits ? "\(handle.string)\tf\t1\tu\tWORK_FAIL\n.\n" : ".\n"))
        #expect(harness.admin("purge dead f", from: client) == (commits ? "OK 1\n" : "OK 0\n"))
        #expect(harness.takeDeletes() == (commits ? [number] : []))
    }

    @Test func aBackgroundJobsResultIsKeptByHandleForItsTimeToLive() throws {
        let harness = harness(keptResults: ["f": .seconds(60)])
        let client = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", background: true, from: client))
        _ = try #require(harness.grab(worker))
        harness.complete(handle, "the result", from: worker)
        let report = try #require(harness.engine.operatorReport(handle: handle.string, now: harness.now))
        #expect(report.state == .completed)
        #expect(report.function == "f")
        #expect(report.result.map { String(buffer: $0) } == "the result")
        #expect(report.expires == harness.now + 60)
        #expect(harness.engine.operatorReport(handle: handle.string, now: harness.now + 61) == nil)
    }

    @Test func backoffDoublesWithJitterWithinItsBounds() {
        let policy = RetryPolicy(minimumBackoff: .seconds(2), maximumBackoff: .seconds(100))
        for seed in UInt64(0)..<200 {
            #expect((2...3).contains(policy.delay(afterFailures: 1, seed: seed)))
            #expect((8...12).contains(policy.delay(afterFailures: 3, seed: seed)))
            #expect(policy.delay(afterFailures: 30, seed: seed) == 100)
        }
        let delays = Set((UInt64(0)..<50).map { policy.delay(afterFailures: 4, seed: $0) })
        #expect(delays.count > 3, "jitter spreads jobs that failed together")
    }

    @Test func retryOptionsParse() throws {
        #expect(try RetryPolicy.parseRetries("resize=5") == ("resize", 5))
        #expect(try RetryPolicy.parseRetries("*=3") == (nil, 3))
        #expect(throws: GearmanServerConfigurationError.self) { try RetryPolicy.parseRetries("resize") }
        #expect(throws: GearmanServerConfigurationError.self) { try RetryPolicy.parseRetries("resize=-1") }
        let backoff = try RetryPolicy.parseBackoff("1s..1h")
        #expect(backoff.minimum == .seconds(1) && backoff.maximum == .seconds(3600))
        #expect(throws: GearmanServerConfigurationError.self) { try RetryPolicy.parseBackoff("1h..1s") }
        #expect(throws: GearmanServerConfigurationError.self) { try RetryPolicy.parseBackoff("1s") }
    }
}
