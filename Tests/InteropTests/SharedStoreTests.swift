import Foundation
import Gearman
import GearmanProtocol
import NIOConcurrencyHelpers
import NIOCore
import Synchronization
import TestSupport
import Testing

/// `gearbox server` processes sharing one real PostgreSQL database: a server killed with SIGKILL has its
/// jobs adopted by another once its lease expires, two killed at once by a third, and a database
/// restarted in the middle of a submit storm loses no acknowledged job.
@Suite(.serialized) struct SharedStoreTests {
    /// Short leases keep the tests short; the figures in bench/durability.sh use the defaults (2 s, 10 s).
    static let leaseExpirySeconds = 3
    static let lease = ["--lease-renewal", "0.5", "--lease-expiry", "\(leaseExpirySeconds)"]

    func startServer(_ name: String, _ cluster: PostgresCluster, database: String) async throws -> (
        process: ChildProcess, port: Int
    ) {
        try await startJobServer(try gearboxBinary()) {
            [
                "server", "--port", "\($0)", "--store", cluster.url(database: database), "--server-name", name,
                "--verbose", "INFO",
            ]
                + Self.lease
        }
    }

    /// Submits `count` background jobs `prefix-N`, 256 in flight, and waits for every JOB_CREATED.
    static func submit(_ count: Int, prefix: String, port: Int) async throws {
        let client = try await RawConnection(port: port, timeout: 20)
        var sent = 0
        var acknowledged = 0
        while acknowledged < count {
            var batch = ByteBuffer()
            while sent < count, sent - acknowledged < 256 {
                DurabilityTests.submitBackground("\(prefix)-\(sent)", function: "shared").encode(into: &batch)
                sent += 1
            }
            if batch.readableBytes > 0 { try await client.send(batch) }
            for response in try await client.receive(min(64, sent - acknowledged)) {
                guard case .jobCreated = response else { throw TestFailure("submit answered \(response)") }
                acknowledged += 1
            }
        }
    }

    /// Every run of every job, with when it ended.
    final class JobRuns: Sendable {
        private let runs = Mutex<[String: [ContinuousClock.Instant]]>([:])

        func record(_ workload: String) {
            let now = ContinuousClock.now
            runs.withLock { $0[workload, default: []].append(now) }
        }

        var distinct: Int { runs.withLock { $0.count } }
        var all: [String: [ContinuousClock.Instant]] { runs.withLock { $0 } }

        func waitFor(_ count: Int, until deadline: ContinuousClock.Instant) async throws {
            _ = try await SharedStoreTests.poll(until: deadline, every: .milliseconds(20)) { distinct >= count }
        }
    }

    /// Checks `condition` now and then every `interval` until it holds or `deadline` has passed; says
    /// whether it held.
    static func poll(
        until deadline: ContinuousClock.Instant, every interval: Duration = .milliseconds(100),
        _ condition: () async throws -> Bool
    ) async throws -> Bool {
        while true {
            if try await condition() { return true }
            guard ContinuousClock.now < deadline else { return false }
            try await Task.sleep(for: interval)
        }
    }

    /// A Gearbox worker on `ports`, eight jobs at a time, recording each run of `shared`.
    static func startWorker(_ ports: [Int], _ runs: JobRuns) -> (GearmanWorker, Task<Void, any Error>) {
        let worker = GearmanWorker(
            servers: ports.map { GearmanServerAddress(host: "127.0.0.1", port: $0) }, concurrency: 8)
        worker.register("shared") { job in
            runs.record(String(buffer: job.workload))
            return ByteBuffer()
        }
        return (worker, Task { try await worker.run() })
    }

    static func stop(_ worker: (GearmanWorker, Task<Void, any Error>)) async {
        worker.0.shutdown()
        _ = try? await worker.1.value
    }

    static func kill(_ process: ChildProcess) async throws {
        process.signal(SIGKILL)
        _ = try await process.wait(timeout: .seconds(10))
    }

    static func admin(_ line: String, port: Int) async throws -> String {
        let admin = try await RawConnection(port: port)
        try await admin.send(line: line)
        return try await admin.receiveAdminReply()
    }

    @Test func aSecondServerRunsEveryJobOfAServerKilledWithSIGKILLAndTheFirstDoesNotRunThemAgain() async throws {
        let cluster = try await PostgresCluster()
        try await cluster.createDatabase("takeover")
        let (first, firstPort) = try await startServer("first", cluster, database: "takeover")
        let (second, secondPort) = try await startServer("second", cluster, database: "takeover")
        _ = second
        let runs = JobRuns()
        let worker = Self.startWorker([firstPort, secondPort], runs)
        // Jobs finished well before the kill, their deletes committed: they must never run again.
        try await Self.submit(1_000, prefix: "early", port: firstPort)
        try await runs.waitFor(1_000, until: .now + .seconds(60))
        try await Task.sleep(for: .seconds(1))

        try await Self.submit(10_000, prefix: "job", port: firstPort)
        let killedAt = ContinuousClock.now
        try await Self.kill(first)
        // Within the lease time plus 5 s, the second server has adopted every job the first held (its rows
        // and its lease are gone). How fast they then run is the worker's affair, on a machine shared with
        // the other tests: they get a minute. bench/durability.sh times the whole takeover on its own.
        let adopted = try await Self.poll(until: killedAt + .seconds(Self.leaseExpirySeconds + 5)) {
            try await cluster.query(
                "SELECT count(*) FROM gearbox_jobs WHERE server = 'first' UNION ALL SELECT count(*) FROM gearbox_servers WHERE name = 'first'",
                database: "takeover") == "0\n0"
        }
        let adoptedAt = ContinuousClock.now
        #expect(adopted, "the first server's jobs were not adopted by the lease time plus 5 s")
        try await runs.waitFor(11_000, until: killedAt + .seconds(60))
        let finishedAt = ContinuousClock.now
        #expect(runs.distinct == 11_000, "jobs that ran within a minute of the kill")

        // A job may run twice only when it was in flight as the server died: taken by the worker, or
        // finished with its row's delete not yet committed (2 s allows for a loaded machine).
        let twice = runs.all.filter { $0.value.count > 1 }
        #expect(!twice.keys.contains { $0.hasPrefix("early-") }, "a job finished long before the kill ran again")
        let inFlight = ContinuousClock.Duration.seconds(2)
        for (workload, ends) in twice {
            #expect(ends[0] > killedAt - inFlight, "\(workload) ended long before the kill and ran again")
        }
        print(
            "takeover: adopted \(adoptedAt - killedAt) and 10,000 jobs done \(finishedAt - killedAt) after SIGKILL, \(twice.count) ran twice (in flight at the kill)"
        )
        let servers = try await Self.admin("show servers", port: secondPort)
        #expect(servers.contains("second\tself\t"))
        #expect(!servers.contains("first\t"), "the adopted server's lease is gone: \(servers)")

        // The first server comes back under its name: its jobs were adopted, it has none to run.
        let (restarted, restartedPort) = try await startServer("first", cluster, database: "takeover")
        _ = restarted
        try await Task.sleep(for: .seconds(1))
        let status = try await Self.admin("status", port: restartedPort)
        #expect(
            !status.contains("shared\t") || status.contains("shared\t0\t"), "the restarted server holds jobs: \(status)"
        )
        #expect(runs.all.values.reduce(0) { $0 + $1.count } == 11_000 + twice.count, "jobs ran after the restart")
        #expect(try await cluster.query("SELECT count(*) FROM gearbox_jobs", database: "takeover") == "0")
        await Self.stop(worker)
    }

    @Test func aThirdServerAdoptsTheJobsOfTwoServersKilledAtOnce() async throws {
        let cluster = try await PostgresCluster()
        try await cluster.createDatabase("three")
        let (first, firstPort) = try await startServer("one", cluster, database: "three")
        let (second, secondPort) = try await startServer("two", cluster, database: "three")
        let (third, thirdPort) = try await startServer("three", cluster, database: "three")
        _ = third
        try await Self.submit(2_000, prefix: "one", port: firstPort)
        try await Self.submit(2_000, prefix: "two", port: secondPort)
        let killedAt = ContinuousClock.now
        first.signal(SIGKILL)
        second.signal(SIGKILL)
        _ = try await first.wait(timeout: .seconds(10))
        _ = try await second.wait(timeout: .seconds(10))

        let runs = JobRuns()
        let worker = Self.startWorker([thirdPort], runs)
        let adopted = try await Self.poll(until: killedAt + .seconds(Self.leaseExpirySeconds + 5)) {
            try await cluster.query(
                "SELECT count(*) FROM gearbox_servers WHERE name <> 'three' UNION ALL SELECT count(*) FROM gearbox_jobs WHERE server <> 'three'",
                database: "three") == "0\n0"
        }
        #expect(adopted, "the two dead servers' jobs were not adopted by the lease time plus 5 s")
        try await runs.waitFor(4_000, until: killedAt + .seconds(60))
        #expect(runs.distinct == 4_000)
        #expect(runs.all.values.allSatisfy { $0.count == 1 }, "no worker was mid-job: nothing runs twice")
        let servers = try await Self.admin("show servers", port: thirdPort)
        #expect(servers == "three\tself\t\(servers.split(separator: "\t")[2])\t\(servers.split(separator: "\t")[3])")
        await Self.stop(worker)
    }

    /// What one storm connection saw.
    struct StormTally: Sendable {
        var acknowledged: [String] = []
        var refused = 0
        var acknowledgedAfterRefusal = false
    }

    @Test func aDatabaseRestartedDuringASubmitStormLosesNoAcknowledgedJobAndTheServersRecover() async throws {
        let cluster = try await PostgresCluster()
        try await cluster.createDatabase("storm")
        let (first, firstPort) = try await startServer("alpha", cluster, database: "storm")
        let (second, secondPort) = try await startServer("beta", cluster, database: "storm")
        _ = (first, second)

        let restarted = NIOLockedValueBox(false)  // set once the database is back
        // Two connections per server submit 32 at a time; each waits at most 12 s for an answer (a hang
        // fails the test). They go on until the restart is over and they have had JOB_CREATED again.
        let storm = try await withThrowingTaskGroup(of: StormTally.self) { group in
            for (index, port) in [firstPort, firstPort, secondPort, secondPort].enumerated() {
                group.addTask {
                    // A statement waits at most 5 s, and so does a connection attempt.
                    let client = try await RawConnection(port: port, timeout: 12)
                    var tally = StormTally()
                    var round = 0
                    let deadline = ContinuousClock.now + .seconds(90)
                    while !(restarted.withLockedValue { $0 } && tally.acknowledgedAfterRefusal) {
                        guard ContinuousClock.now < deadline else {
                            throw TestFailure("connection \(index) never had JOB_CREATED again after the restart")
                        }
                        let workloads = (0..<32).map { "storm-\(index)-\(round)-\($0)" }
                        round += 1
                        var batch = ByteBuffer()
                        for workload in workloads {
                            DurabilityTests.submitBackground(workload, function: "shared").encode(into: &batch)
                        }
                        try await client.send(batch)
                        for (workload, response) in zip(workloads, try await client.receive(workloads.count)) {
                            switch response {
                            case .jobCreated:
                                tally.acknowledged.append(workload)
                                if tally.refused > 0 { tally.acknowledgedAfterRefusal = true }
                            case .error(let code, _) where code == "QUEUE_ERROR":
                                tally.refused += 1
                            default:
                                throw TestFailure("submit answered \(response)")
                            }
                        }
                    }
                    return tally
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(1))
                try await cluster.stop()
                // Foreground jobs never touch the store: one runs while the database is down.
                try await Self.runForegroundJob(port: firstPort)
                try await Task.sleep(for: .seconds(1))
                try await cluster.start()
                restarted.withLockedValue { $0 = true }
                return StormTally()
            }
            var tallies: [StormTally] = []
            for try await tally in group { tallies.append(tally) }
            return tallies
        }
        let acknowledged = storm.flatMap(\.acknowledged)
        let refused = storm.reduce(0) { $0 + $1.refused }
        print("storm: \(acknowledged.count) acknowledged, \(refused) refused with QUEUE_ERROR during the restart")
        #expect(refused > 0, "the restart refused no submit: it happened outside the storm")

        let runs = JobRuns()
        let worker = Self.startWorker([firstPort, secondPort], runs)
        _ = try await Self.poll(until: .now + .seconds(60)) {
            let ran = runs.all
            return acknowledged.allSatisfy { ran[$0] != nil }
        }
        let lost = acknowledged.filter { runs.all[$0] == nil }
        #expect(lost.isEmpty, "\(lost.count) acknowledged jobs never ran, for example \(lost.prefix(3))")
        await Self.stop(worker)
    }

    /// A foreground job from submit to WORK_COMPLETE, with a raw worker and client.
    static func runForegroundJob(port: Int) async throws {
        let worker = try await RawConnection(port: port)
        try await worker.send(.canDo(function: ByteBuffer(string: "foreground")))
        let client = try await RawConnection(port: port)
        try await client.send(
            .submitJob(GearmanSubmitJob(function: ByteBuffer(string: "foreground"), workload: ByteBuffer(string: "fg")))
        )
        guard case .jobCreated = try await client.receive(1)[0] else {
            throw TestFailure("no JOB_CREATED for a foreground job")
        }
        try await worker.send(.grabJob(.unique))
        guard case .jobAssignUnique(let handle, _, _, _) = try await worker.receive(1)[0] else {
            throw TestFailure("the worker got no job")
        }
        try await worker.send(.workComplete(handle: handle, data: ByteBuffer(string: "done")))
        guard case .workComplete(_, let data) = try await client.receive(1)[0], String(buffer: data) == "done" else {
            throw TestFailure("the client got no WORK_COMPLETE")
        }
    }

    @Test func aServerPausedPastItsLeaseDropsTheJobsAnotherAdoptedInsteadOfRunningThemAgain() async throws {
        let cluster = try await PostgresCluster()
        try await cluster.createDatabase("paused")
        let (paused, pausedPort) = try await startServer("paused", cluster, database: "paused")
        let (other, otherPort) = try await startServer("other", cluster, database: "paused")
        _ = other
        try await Self.submit(1_000, prefix: "paused", port: pausedPort)
        _ = try await Self.poll(until: .now + .seconds(5), every: .milliseconds(50)) {
            try await Self.admin("show servers", port: otherPort).contains("paused\tlive\t")
        }
        paused.signal(SIGSTOP)
        defer { paused.signal(SIGCONT) }
        // Adoption deletes the dead server's lease.
        let adopted = try await Self.poll(until: .now + .seconds(Self.leaseExpirySeconds + 5)) {
            try await !Self.admin("show servers", port: otherPort).contains("paused\t")
        }
        #expect(adopted, "not adopted in time")
        #expect(
            try await cluster.query("SELECT count(*) FROM gearbox_jobs WHERE server = 'other'", database: "paused")
                == "1000")

        // A worker connects to both while the first is still paused: its CAN_DO and GRAB_JOB wait in the
        // socket, and are read the moment the server runs again, before its lease is renewed.
        let runs = JobRuns()
        let worker = Self.startWorker([pausedPort, otherPort], runs)
        try await Task.sleep(for: .milliseconds(300))
        paused.signal(SIGCONT)
        try await runs.waitFor(1_000, until: ContinuousClock.now + .seconds(60))
        try await Task.sleep(for: .seconds(1))
        #expect(runs.distinct == 1_000)
        let twice = runs.all.filter { $0.value.count > 1 }.keys.sorted()
        #expect(twice.isEmpty, "ran twice: \(twice.prefix(5))")
        #expect(try await Self.admin("show servers", port: pausedPort).contains("paused\tself\t"), "it joined again")
        await Self.stop(worker)
    }

    @Test func gearmandsSpellingStatusShowsTheGroupsQueuedJobsAndASecondProcessUnderOneNameIsRefused() async throws {
        let cluster = try await PostgresCluster()
        try await cluster.createDatabase("spelling")
        let (holder, holderPort) = try await startJobServer(try gearboxBinary()) {
            [
                "server", "--port", "\($0)", "-q", "Postgres", "--libpq-conninfo",
                "host=127.0.0.1 port=\(cluster.port) dbname=spelling user=\(PostgresCluster.user)", "--server-name",
                "holder",
            ] + Self.lease
        }
        _ = holder
        let (counter, counterPort) = try await startServer("counter", cluster, database: "spelling")
        _ = counter
        try await Self.submit(300, prefix: "held", port: holderPort)
        #expect(
            try await Self.admin("show store", port: holderPort).contains(
                "store\tpostgres://gearbox@127.0.0.1:\(cluster.port)/spelling\n"))

        // The first `status` asks for the group's counts; they come with the next renewal.
        _ = try await Self.admin("status", port: counterPort)
        var status = ""
        _ = try await Self.poll(until: .now + .seconds(20)) {
            status = try await Self.admin("status", port: counterPort)
            return status.contains("shared\t300\t0\t0\n")
        }
        #expect(status == "shared\t300\t0\t0\n.\n")
        let servers = try await Self.admin("show servers", port: counterPort)
        let lines = servers.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(lines.count == 3 && lines.last == ["."], "\(servers)")
        #expect(lines.first.map { [$0[0], $0[1], $0[3]] } == ["counter", "self", "0"])
        #expect(lines.dropFirst().first.map { [$0[0], $0[1], $0[3]] } == ["holder", "live", "300"])
        #expect(
            lines.prefix(2).allSatisfy { Int($0[2]).map { $0 > 0 && $0 <= Self.leaseExpirySeconds * 1000 } ?? false })

        // A second process under the name "holder" takes it over; the first stops writing at its next
        // renewal and says why.
        let (usurper, usurperPort) = try await startServer("holder", cluster, database: "spelling")
        _ = (usurper, usurperPort)
        // Until its next renewal, a write finds its lease taken ("lease was lost"); from then on it names
        // the cause.
        let refusal = try await { () async throws -> String in
            let client = try await RawConnection(port: holderPort)
            let deadline = ContinuousClock.now + .seconds(20)
            while true {
                try await client.send(DurabilityTests.submitBackground("refused", function: "shared"))
                let response = try await client.receive(1)[0]
                guard case .error("QUEUE_ERROR", let message) = response else { return "answered \(response)" }
                if message.contains("--server-name") || ContinuousClock.now > deadline { return message }
                try await Task.sleep(for: .milliseconds(50))
            }
        }()
        #expect(refusal.contains("--server-name"), "\(refusal)")
        // The newcomer has the name's 300 jobs: the displaced server dropped its copies.
        #expect(try await Self.admin("status", port: usurperPort).contains("shared\t300\t"))
        #expect(try await Self.admin("status", port: holderPort).contains("shared\t0\t0\t0\n"))
    }

    @Test func sslmodeRequireTalksTLSToTheDatabaseAndRefusesOneWithout() async throws {
        let cluster = try await PostgresCluster(tls: true)
        let (server, port) = try await startJobServer(try gearboxBinary()) {
            ["server", "--port", "\($0)", "--store", cluster.url() + "?sslmode=require", "--server-name", "tls"]
                + Self.lease
        }
        _ = server
        try await Self.submit(10, prefix: "tls", port: port)
        #expect(try await cluster.query("SELECT count(*) FROM gearbox_jobs") == "10")
        #expect(
            try await cluster.query(
                "SELECT bool_and(ssl) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE usename = 'gearbox' AND application_name = ''"
            ) == "t", "the store's connection is not encrypted")

        let plain = try await PostgresCluster()
        let refused = try await ChildProcess.run(
            try gearboxBinary(),
            ["server", "--port", "\(try freePort())", "--store", plain.url() + "?sslmode=require"],
            timeout: .seconds(30))
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("store"), "\(refused.stderr)")
    }
}
