import GearmanProtocol
import GearmanServer
import NIOCore
import Testing

/// Kept results of cached functions answer foreground jobs with the same unique key without a worker.
@Suite struct ResultCacheTests {
    static let cached = ResultCacheConfiguration(functions: ["f": .seconds(60), "g": .seconds(60)])

    /// Runs one job of `function` with `unique` through `worker` and returns its handle.
    @discardableResult
    private func run(
        _ harness: EngineHarness, _ function: String, unique: String, workload: String = "w", result: String,
        worker: ConnectionID, client: ConnectionID
    ) throws -> ByteBuffer {
        let handle = try #require(harness.submit(function, workload, unique: unique, from: client))
        let job = try #require(harness.grab(worker))
        #expect(job.handle == handle)
        harness.complete(handle, result, from: worker)
        #expect(harness.take(client) == [.workComplete(handle: handle, data: ByteBuffer(string: result))])
        return handle
    }

    /// The replies to a submission: JOB_CREATED and WORK_COMPLETE for a hit, JOB_CREATED alone for a queued job.
    private func submit(
        _ harness: EngineHarness, _ function: String, unique: String, workload: String = "w",
        priority: GearmanPriority = .normal, background: Bool = false, from client: ConnectionID
    ) -> [GearmanResponse] {
        harness.send(
            .submitJob(
                GearmanSubmitJob(
                    function: ByteBuffer(string: function), unique: ByteBuffer(string: unique),
                    workload: ByteBuffer(string: workload), priority: priority, isBackground: background)),
            from: client)
        return harness.take(client)
    }

    private func isHit(_ responses: [GearmanResponse], data: String) -> Bool {
        guard responses.count == 2, case .jobCreated(let created) = responses[0],
            case .workComplete(let completed, let result) = responses[1]
        else { return false }
        return created == completed && result == ByteBuffer(string: data)
    }

    private func cacheLine(_ harness: EngineHarness, _ function: String) -> String? {
        harness.admin("cache", from: harness.connect()).split(separator: "\n").first {
            $0.hasPrefix(function + "\t")
        }.map(String.init)
    }

    @Test func aKeptResultIsAnsweredWithoutAWorkerByteForByte() throws {
        let harness = EngineHarness(resultCache: Self.cached)
        let worker = harness.worker("f")
        let result = "r\u{0}\u{1}é\u{7F} result"
        let first = try run(harness, "f", unique: "k", result: result, worker: worker, client: harness.connect())
        let jobsRun = harness.engine.jobCount

        for priority in GearmanPriority.allCases {
            let client = harness.connect()
            let responses = submit(harness, "f", unique: "k", priority: priority, from: client)
            #expect(isHit(responses, data: result), "\(priority): \(responses)")
            guard case .jobCreated(let handle)? = responses.first else { continue }
            #expect(handle != first)
        }
        #expect(harness.grab(worker) == nil, "the worker was asked again")
        #expect(harness.engine.jobCount == jobsRun)
        #expect(harness.admin("status", from: harness.connect()) == "f\t0\t0\t1\n.\n")
    }

    @Test func aResultIsAnsweredUntilItsTimeToLiveHasPassed() throws {
        let harness = EngineHarness(resultCache: ResultCacheConfiguration(functions: ["f": .seconds(30)]))
        let worker = harness.worker("f")
        try run(harness, "f", unique: "k", result: "old", worker: worker, client: harness.connect())
        harness.now += 29
        #expect(isHit(submit(harness, "f", unique: "k", from: harness.connect()), data: "old"))
        harness.now += 1
        let client = harness.connect()
        let responses = submit(harness, "f", unique: "k", from: client)
        #expect(responses.count == 1, "an expired result was answered: \(responses)")
        let job = try #require(harness.grab(worker))
        harness.complete(job.handle, "new", from: worker)
        #expect(harness.take(client) == [.workComplete(handle: job.handle, data: ByteBuffer(string: "new"))])
        #expect(isHit(submit(harness, "f", unique: "k", from: harness.connect()), data: "new"))
        #expect(cacheLine(harness, "f") == "f\t1\t4\t2\t2\t0\t30")
    }

    @Test func theByteBudgetEvictsTheLeastRecentlyUsedResult() throws {
        // Each result costs 2 bytes of key and 8 of data: three fit in 30 bytes.
        let harness = EngineHarness(
            resultCache: ResultCacheConfiguration(functions: ["f": .seconds(60), "g": .seconds(60)], maximumBytes: 30))
        let worker = harness.worker("f", "g")
        let client = harness.connect()
        try run(harness, "f", unique: "k1", result: "result 1", worker: worker, client: client)
        try run(harness, "g", unique: "k2", result: "result 2", worker: worker, client: client)
        try run(harness, "f", unique: "k3", result: "result 3", worker: worker, client: client)
        #expect(isHit(submit(harness, "f", unique: "k1", from: client), data: "result 1"))
        try run(harness, "f", unique: "k4", result: "result 4", worker: worker, client: client)

        #expect(cacheLine(harness, "g") == "g\t0\t0\t0\t1\t1\t60")
        #expect(isHit(submit(harness, "f", unique: "k1", from: client), data: "result 1"))
        #expect(isHit(submit(harness, "f", unique: "k3", from: client), data: "result 3"))
        #expect(isHit(submit(harness, "f", unique: "k4", from: client), data: "result 4"))
        #expect(submit(harness, "g", unique: "k2", from: client).count == 1, "the least recently used was kept")
        #expect(cacheLine(harness, "f") == "f\t3\t30\t4\t3\t0\t60")
    }

    @Test func aResultBiggerThanTheWholeBudgetIsNotKept() throws {
        let harness = EngineHarness(
            resultCache: ResultCacheConfiguration(functions: ["f": .seconds(60)], maximumBytes: 10))
        let worker = harness.worker("f")
        let client = harness.connect()
        try run(harness, "f", unique: "k1", result: "fits", worker: worker, client: client)
        try run(harness, "f", unique: "k2", result: "too big by far", worker: worker, client: client)
        #expect(submit(harness, "f", unique: "k2", from: client).count == 1)
        #expect(isHit(submit(harness, "f", unique: "k1", from: client), data: "fits"))
        #expect(cacheLine(harness, "f") == "f\t1\t6\t1\t3\t0\t60")
    }

    @Test func failuresExceptionsAndLostJobsAreNotKept() throws {
        let harness = EngineHarness(jobRetries: 1, resultCache: Self.cached)
        let client = harness.connect()
        let worker = harness.worker("f")
        let outcomes: [(String, (ByteBuffer) -> Void)] = [
            ("fail", { harness.send(.workFail(handle: $0), from: worker) }),
            ("exception", { harness.send(.workException(handle: $0, data: ByteBuffer(string: "boom")), from: worker) }),
        ]
        for (unique, end) in outcomes {
            _ = try #require(harness.submit("f", unique: unique, from: client))
            let job = try #require(harness.grab(worker))
            end(job.handle)
            _ = harness.take(client)
            #expect(submit(harness, "f", unique: unique, from: client).count == 1, "\(unique) was kept")
            let again = try #require(harness.grab(worker))
            harness.complete(again.handle, "done", from: worker)
            _ = harness.take(client)
        }
        let vanishing = harness.worker("f")
        _ = try #require(harness.submit("f", unique: "lost", from: client))
        _ = try #require(harness.grab(vanishing))
        harness.disconnect(vanishing)
        #expect(harness.take(client).count == 1)  // WORK_FAIL: its one attempt is spent
        #expect(submit(harness, "f", unique: "lost", from: client).count == 1, "a lost job was kept")
    }

    @Test func aStreamedResultIsNotKept() throws {
        let harness = EngineHarness(resultCache: Self.cached)
        let client = harness.connect()
        let worker = harness.worker("f")
        let handle = try #require(harness.submit("f", unique: "k", from: client))
        _ = try #require(harness.grab(worker))
        harness.send(.workData(handle: handle, data: ByteBuffer(string: "first half ")), from: worker)
        harness.complete(handle, "second half", from: worker)
        #expect(harness.take(client).count == 2)
        #expect(submit(harness, "f", unique: "k", from: client).count == 1)
    }

    @Test func theSameUniqueUnderTwoFunctionsIsTwoResults() throws {
        let harness = EngineHarness(resultCache: Self.cached)
        let client = harness.connect()
        let worker = harness.worker("f", "g")
        try run(harness, "f", unique: "k", result: "from f", worker: worker, client: client)
        #expect(submit(harness, "g", unique: "k", from: client).count == 1)
        let job = try #require(harness.grab(worker))
        #expect(job.function == "g")
        harness.complete(job.handle, "from g", from: worker)
        _ = harness.take(client)
        #expect(isHit(submit(harness, "f", unique: "k", from: client), data: "from f"))
        #expect(isHit(submit(harness, "g", unique: "k", from: client), data: "from g"))
    }

    @Test func anEmptyUniqueIsNeverKept() throws {
        let harness = EngineHarness(resultCache: Self.cached)
        let client = harness.connect()
        let worker = harness.worker("f")
        try run(harness, "f", unique: "", workload: "same", result: "r", worker: worker, client: client)
        #expect(submit(harness, "f", unique: "", workload: "same", from: client).count == 1)
        #expect(harness.grab(worker) != nil, "no job was queued")
        #expect(cacheLine(harness, "f") == "f\t0\t0\t0\t0\t0\t60")
    }

    @Test func theDashUniqueKeysResultsByWorkloadAsCoalescingDoes() throws {
        let harness = EngineHarness(resultCache: Self.cached)
        let client = harness.connect()
        let worker = harness.worker("f")
        try run(harness, "f", unique: "-", workload: "photo A", result: "A", worker: worker, client: client)
        #expect(isHit(submit(harness, "f", unique: "-", workload: "photo A", from: client), data: "A"))
        #expect(submit(harness, "f", unique: "-", workload: "photo B", from: client).count == 1)
        #expect(submit(harness, "f", unique: "photo A", workload: "photo A", from: client).count == 1)
    }

    @Test func backgroundSubmissionsAreNeverAnsweredFromTheCache() throws {
        let harness = EngineHarness(resultCache: Self.cached)
        let client = harness.connect()
        let worker = harness.worker("f")
        try run(harness, "f", unique: "k", result: "r", worker: worker, client: client)
        let responses = submit(harness, "f", unique: "k", background: true, from: client)
        #expect(responses.count == 1)
        let job = try #require(harness.grab(worker), "the background job was not queued")
        harness.complete(job.handle, "newer", from: worker)
        #expect(harness.take(client).isEmpty)
        // A background job's result is kept too: a foreground submission after it gets the newer bytes.
        #expect(isHit(submit(harness, "f", unique: "k", from: client), data: "newer"))
    }

    @Test func clientsInFlightShareOneJobAndALaterOneGetsItsResult() throws {
        let harness = EngineHarness(resultCache: Self.cached)
        let first = harness.connect()
        let second = harness.connect()
        let worker = harness.worker("f")
        var jobsRun = 0
        let handle = try #require(harness.submit("f", "one", unique: "k", from: first))
        #expect(harness.submit("f", "two", unique: "k", from: second) == handle)
        let job = try #require(harness.grab(worker))
        jobsRun += 1
        #expect(job.workload == "one")
        #expect(harness.grab(worker) == nil)
        harness.complete(handle, "r", from: worker)
        #expect(harness.take(first) == [.workComplete(handle: handle, data: ByteBuffer(string: "r"))])
        #expect(harness.take(second) == [.workComplete(handle: handle, data: ByteBuffer(string: "r"))])

        let third = harness.connect()
        #expect(isHit(submit(harness, "f", unique: "k", from: third), data: "r"))
        if harness.grab(worker) != nil { jobsRun += 1 }
        #expect(jobsRun == 1)
        #expect(cacheLine(harness, "f") == "f\t1\t2\t1\t2\t0\t60")
    }

    @Test func uncachedFunctionsCoalesceAsBefore() throws {
        let harness = EngineHarness(resultCache: Self.cached)
        let client = harness.connect()
        let worker = harness.worker("h")
        try run(harness, "h", unique: "k", result: "r", worker: worker, client: client)
        #expect(submit(harness, "h", unique: "k", from: client).count == 1)
        #expect(harness.admin("cache", from: harness.connect()) == "f\t0\t0\t0\t0\t0\t60\ng\t0\t0\t0\t0\t0\t60\n.\n")
        let uncached = EngineHarness()
        #expect(uncached.admin("cache", from: uncached.connect()) == ".\n")
    }

    @Test func resultsOutliveADroppedFunction() throws {
        let harness = EngineHarness(resultCache: Self.cached)
        let client = harness.connect()
        let worker = harness.worker("f")
        try run(harness, "f", unique: "k", result: "r", worker: worker, client: client)
        harness.disconnect(worker)
        #expect(harness.admin("drop function f", from: harness.connect()) == "OK\r\n")
        #expect(isHit(submit(harness, "f", unique: "k", from: client), data: "r"))
    }

    @Test func aHitActsTheSameThroughThePacketPath() throws {
        let viaRequests = EngineHarness(resultCache: Self.cached)
        let viaPackets = EngineHarness(resultCache: Self.cached)
        let client = viaRequests.connect()
        let worker = viaRequests.connect()
        #expect(viaPackets.connect() == client)
        #expect(viaPackets.connect() == worker)
        func both(_ request: GearmanRequest, from id: ConnectionID) -> [GearmanResponse] {
            viaRequests.send(request, from: id)
            viaPackets.sendAsPacket(request, from: id)
            let responses = viaRequests.take(id)
            #expect(responses == viaPackets.take(id), "after \(request.packetType)")
            return responses
        }
        _ = both(.canDo(function: ByteBuffer(string: "f")), from: worker)
        let submission = GearmanSubmitJob(
            function: ByteBuffer(string: "f"), unique: ByteBuffer(string: "k"), workload: ByteBuffer(string: "w"))
        _ = both(.submitJob(submission), from: client)
        let assigned = both(.grabJob(.unique), from: worker)
        guard case .jobAssignUnique(let handle, _, _, _)? = assigned.first else {
            Issue.record("no job assigned: \(assigned)")
            return
        }
        _ = both(.workComplete(handle: handle, data: ByteBuffer(string: "r")), from: worker)
        #expect(viaRequests.take(client) == viaPackets.take(client))
        #expect(isHit(both(.submitJob(submission), from: client), data: "r"))
        #expect(both(.grabJob(.unique), from: worker) == [.noJob])
        #expect(cacheLine(viaRequests, "f") == cacheLine(viaPackets, "f"))
    }
}

/// `--result-cache FUNCTION[=TTL]` and the configuration `GearmanJobServer.bind` accepts.
@Suite struct ResultCacheConfigurationTests {
    @Test func aFunctionWithoutATimeKeepsItsResultsAnHour() throws {
        let parsed = try ResultCacheConfiguration.parseFunction("resize")
        #expect(parsed.name == "resize" && parsed.timeToLive == .seconds(3600))
    }

    @Test func timesToLiveTakeSecondsMinutesHoursAndDays() throws {
        let cases: [(String, Duration)] = [
            ("a=30s", .seconds(30)), ("a=10m", .seconds(600)), ("a=1h", .seconds(3600)), ("a=2d", .seconds(172_800)),
            ("name=with=1s", .seconds(1)),
        ]
        for (text, expected) in cases {
            #expect(try ResultCacheConfiguration.parseFunction(text).timeToLive == expected, "\(text)")
        }
        #expect(try ResultCacheConfiguration.parseFunction("name=with=1s").name == "name=with")
    }

    @Test func badTimesToLiveAreRefusedWithTheReason() {
        for text in ["resize=10x", "resize=", "resize=0s", "resize=-1m", "resize=1.5h", "resize=m", "resize=10"] {
            #expect(
                throws: GearmanServerConfigurationError.self, "\(text)",
                performing: { try ResultCacheConfiguration.parseFunction(text) })
            do {
                _ = try ResultCacheConfiguration.parseFunction(text)
            } catch {
                #expect(error.reason.contains("\(text): the time to live must be"), "\(error.reason)")
                #expect(error.reason.contains("30s, 10m, 1h, 2d"))
            }
        }
        for text in ["", "=10m"] {
            #expect(throws: GearmanServerConfigurationError.self) { try ResultCacheConfiguration.parseFunction(text) }
        }
    }

    @Test func bindRefusesATimeToLiveUnderASecondAndANegativeBudget() async throws {
        for cache in [
            ResultCacheConfiguration(functions: ["f": .milliseconds(500)]),
            ResultCacheConfiguration(functions: ["f": .seconds(1)], maximumBytes: -1),
        ] {
            let configuration = GearmanServerConfiguration(host: "127.0.0.1", port: 0, resultCache: cache)
            await #expect(throws: GearmanServerConfigurationError.self) {
                _ = try await GearmanJobServer.bind(configuration: configuration)
            }
        }
    }
}
