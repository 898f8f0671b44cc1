import Foundation
import GearmanProtocol
import NIOCore
import TestSupport
import Testing

/// `gearbox server --store sqlite:PATH` as a process: killed with SIGKILL in the middle of a submit storm
/// and started again on the same file, with epoch jobs that come due while it is down, a row that is not a
/// job, a second server on the same file, and a full disk.
@Suite(.serialized) struct DurabilityTests {
    func startServer(_ arguments: [String]) async throws -> (process: ChildProcess, port: Int) {
        try await startJobServer(try gearboxBinary()) {
            ["server", "--port", "\($0)", "--verbose", "INFO"] + arguments
        }
    }

    static func submitBackground(
        _ workload: String, function: String = "durable", unique: String = "", epoch: Int64? = nil
    )
        -> GearmanRequest
    {
        .submitJob(
            GearmanSubmitJob(
                function: ByteBuffer(string: function), unique: ByteBuffer(string: unique),
                workload: ByteBuffer(string: workload), isBackground: true, epoch: epoch))
    }

    /// Takes every queued job of `function` with GRAB_JOB_UNIQ and completes it; returns the workloads.
    func drain(port: Int, function: String = "durable") async throws -> [String] {
        let worker = try await RawConnection(port: port)
        try await worker.send(.canDo(function: ByteBuffer(string: function)))
        var workloads: [String] = []
        var next = ByteBuffer()
        GearmanRequest.grabJob(.unique).encode(into: &next)
        while true {
            // One write per job: the result and the next grab together, which spares Nagle's delay.
            try await worker.send(next)
            next.clear()
            switch try await worker.receive(1)[0] {
            case .jobAssignUnique(let handle, _, _, let workload):
                workloads.append(String(buffer: workload))
                GearmanRequest.workComplete(handle: handle, data: ByteBuffer()).encode(into: &next)
                GearmanRequest.grabJob(.unique).encode(into: &next)
            case .noJob:
                return workloads
            case let other:
                throw TestFailure("unexpected \(other) while draining")
            }
        }
    }

    /// Polls `show store` until every accepted write and delete is committed.
    func waitUntilWritten(port: Int) async throws {
        let caughtUp = "unwritten\t0\n"
        let store = try await adminReply(port: port, "show store", timeout: .seconds(20)) { $0.contains(caughtUp) }
        guard store.contains(caughtUp) else { throw TestFailure("the store did not catch up in 20 s: \(store)") }
    }

    @Test func everyAcknowledgedJobSurvivesSIGKILLDuringASubmitStormAndFinishedOnesDoNotComeBack() async throws {
        let scratch = try ScratchFolder()
        var (server, port) = try await startServer(["--store", "sqlite:\(scratch.store)"])
        // Jobs finished before the kill, their deletes committed: they must not run again.
        let firstPort = port
        let early = try await RawConnection(port: firstPort)
        for index in 0..<200 {
            try await early.send(Self.submitBackground("finished-\(index)"))
        }
        _ = try await early.receive(200)
        #expect(try await drain(port: port).count == 200)
        try await waitUntilWritten(port: port)

        // The storm: four connections keep submitting; in the last round the server is killed with those
        // submits in flight, and whatever JOB_CREATED it managed to send still counts as acknowledged.
        let storming = server
        let stormPort = port
        let batch = 250
        let rounds = 12
        let connectionCount = 4
        let (sent, acknowledged) = try await { () async throws -> ([[String]], [Int]) in
            let port = stormPort
            let server = storming
            var connections: [RawConnection] = []
            for _ in 0..<connectionCount { connections.append(try await RawConnection(port: port)) }
            var sent = Array(repeating: [String](), count: connections.count)
            var acknowledged = Array(repeating: 0, count: connections.count)
            for round in 0..<rounds {
                for (index, connection) in connections.enumerated() {
                    var bytes = ByteBuffer()
                    for _ in 0..<batch {
                        let workload = "c\(index)-\(sent[index].count)"
                        sent[index].append(workload)
                        Self.submitBackground(workload).encode(into: &bytes)
                    }
                    try await connection.send(bytes)
                }
                guard round < rounds - 1 else { break }
                for (index, connection) in connections.enumerated() {
                    for response in try await connection.receive(batch) {
                        guard case .jobCreated = response else {
                            throw TestFailure("expected JOB_CREATED, got \(response)")
                        }
                        acknowledged[index] += 1
                    }
                }
            }
            server.stop()  // SIGKILL
            for (index, connection) in connections.enumerated() {
                while let response = try? await connection.receive(1).first, case .jobCreated = response {
                    acknowledged[index] += 1
                }
            }
            return (sent, acknowledged)
        }()
        let promised = Set(zip(sent, acknowledged).flatMap { $0.0.prefix($0.1) })
        #expect(promised.count >= (rounds - 1) * batch * connectionCount)

        (server, port) = try await startServer(["--store", "sqlite:\(scratch.store)"])
        defer { server.stop() }
        let drained = try await drain(port: port)
        let back = Set(drained)
        #expect(drained.count == back.count, "a job came back twice")
        #expect(promised.subtracting(back).isEmpty, "\(promised.subtracting(back).count) acknowledged jobs were lost")
        #expect(!back.contains { $0.hasPrefix("finished-") }, "a job that had finished came back")
        #expect(back.subtracting(Set(sent.joined())).isEmpty)
        print("durability: \(promised.count) acknowledged before SIGKILL, \(back.count) came back")
    }

    @Test func epochJobsThatCameDueWhileTheServerWasDownRunRightAfterTheRestart() async throws {
        let scratch = try ScratchFolder()
        var (server, port) = try await startServer(["--store", scratch.store])
        let client = try await RawConnection(port: port)
        let due = Int64(Date().timeIntervalSince1970) + 2
        try await client.send(Self.submitBackground("due-while-down", epoch: due))
        try await client.send(Self.submitBackground("next-year", epoch: due + 365 * 86_400))
        #expect(try await client.receive(2).allSatisfy { if case .jobCreated = $0 { true } else { false } })
        #expect(try await drain(port: port).isEmpty, "neither is due yet")
        server.stop()
        while Int64(Date().timeIntervalSince1970) <= due {
            try await Task.sleep(for: .milliseconds(100))
        }
        (server, port) = try await startServer(["--store", scratch.store])
        defer { server.stop() }
        #expect(try await drain(port: port) == ["due-while-down"])
        let admin = try await RawConnection(port: port)
        try await admin.send(line: "status")
        let fields = try await admin.receiveAdminReply().split(separator: "\n")[0].split(separator: "\t")
        #expect(fields.prefix(3) == ["durable", "1", "0"], "the later one still waits")
    }

    @Test func gearmandsSpellingWorksWithGearmandsOwnTools() async throws {
        let scratch = try ScratchFolder()
        let arguments = ["-q", "libsqlite3", "--libsqlite3-db", scratch.store]
        var (server, port) = try await startServer(arguments)
        for text in ["one", "two", "three"] {
            let result = try await ChildProcess.run("gearman", ["-p", "\(port)", "-b", "-f", "durable", "--", text])
            #expect(result.status == 0)
        }
        server.stop()
        (server, port) = try await startServer(arguments)
        defer { server.stop() }
        let status = try await ChildProcess.run("gearadmin", ["-p", "\(port)", "--status"])
        #expect(String(decoding: status.stdout, as: UTF8.self).hasPrefix("durable\t3\t0\t0\n"))
        #expect(Set(try await drain(port: port)) == ["one", "two", "three"])
    }

    @Test func gearmandsQueuedJobsCarryOverToTheSameCommandLine() async throws {
        let scratch = try ScratchFolder()
        let arguments = ["-q", "libsqlite3", "--libsqlite3-db", scratch.store]
        let gearmand = try await Gearmand(extraArguments: arguments)
        for text in ["first", "second", "third"] {
            let result = try await ChildProcess.run(
                "gearman", ["-p", "\(gearmand.port)", "-b", "-f", "durable", "--", text])
            #expect(result.status == 0)
        }
        gearmand.stop()
        var (server, port) = try await startServer(arguments)
        #expect(try await drain(port: port) == ["first", "second", "third"])
        try await waitUntilWritten(port: port)
        server.stop()
        (server, port) = try await startServer(arguments)
        defer { server.stop() }
        #expect(try await drain(port: port).isEmpty, "moved once, and done once")
    }

    @Test func aRowThatIsNotAJobIsSetAsideAndTheServerStartsWithTheRest() async throws {
        let scratch = try ScratchFolder()
        var (server, port) = try await startServer(["--store", scratch.store])
        let client = try await RawConnection(port: port)
        try await client.send(Self.submitBackground("good-1"))
        try await client.send(Self.submitBackground("good-2"))
        _ = try await client.receive(2)
        server.stop()
        let damage = try await ChildProcess.run(
            "sqlite3",
            [
                scratch.store,
                """
                INSERT INTO gearbox_jobs (id, function, unique_key, priority, when_to_run, reducer, data) VALUES (1000, 'durable', '', 7, NULL, NULL, 'bad priority');
                INSERT INTO gearbox_jobs (id, function, unique_key, priority, when_to_run, reducer, data) VALUES (1001, 'durable', '', 1, 'soon', NULL, 'bad time');
                INSERT INTO gearbox_jobs (id, function, unique_key, priority, when_to_run, reducer, data) VALUES (1002, '', '', 1, NULL, NULL, 'no function');
                INSERT INTO gearbox_jobs (id, function, unique_key, priority, when_to_run, reducer, data) VALUES (1003, 'durable', '', 1, NULL, NULL, 42);
                """,
            ])
        #expect(damage.status == 0, "\(damage.stderr)")
        (server, port) = try await startServer(["--store", scratch.store])
        #expect(Set(try await drain(port: port)) == ["good-1", "good-2"])
        try await waitUntilWritten(port: port)
        server.signal(SIGTERM)
        _ = try await server.wait(timeout: .seconds(15))
        #expect(server.standardErrorText.contains("setAside=4"))
        #expect(server.standardErrorText.contains("priority is not 0, 1 or 2"))
        let kept = try await ChildProcess.run(
            "sqlite3",
            [scratch.store, "SELECT count(*) FROM gearbox_jobs_set_aside; SELECT count(*) FROM gearbox_jobs;"])
        #expect(String(decoding: kept.stdout, as: UTF8.self) == "4\n0\n", "set aside, not deleted")
    }

    @Test func aSecondServerOnTheSameStoreIsRefused() async throws {
        let scratch = try ScratchFolder()
        let (first, _) = try await startServer(["--store", scratch.store])
        defer { first.stop() }
        let second = try await ChildProcess.run(
            try gearboxBinary(), ["server", "--port", "\(try freePort())", "--store", scratch.store],
            timeout: .seconds(30))
        #expect(second.status != 0)
        #expect(second.stderr.contains("in use by another process"), "\(second.stderr)")
    }

    @Test(.enabled(if: getuid() == 0, "mounting a small filesystem needs root"))
    func aFullDiskAnswersQueueErrorLosesNothingAcknowledgedAndWritesResumeWhenSpaceReturns() async throws {
        let scratch = try ScratchFolder()
        let mount = try await ChildProcess.run("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", scratch.path])
        try #require(mount.status == 0, "\(mount.stderr)")
        defer { _ = try? ChildProcess.unmount(scratch.path) }
        var (server, port) = try await startServer(["--store", scratch.store])
        let client = try await RawConnection(port: port)
        try await client.send(Self.submitBackground("before-the-disk-filled"))
        #expect(try await client.receive(1).first.map { if case .jobCreated = $0 { true } else { false } } == true)

        let filler = scratch.path + "/filler"
        _ = try await ChildProcess.run("dd", ["if=/dev/zero", "of=\(filler)", "bs=64k"])
        var acknowledgedWhileFilling: [String] = []
        var refused: (workload: String, code: String, message: String)?
        for index in 0..<100 where refused == nil {
            let workload = "while-full-\(index)-" + String(repeating: "x", count: 4096)
            try await client.send(Self.submitBackground(workload))
            switch try await client.receive(1)[0] {
            case .jobCreated: acknowledgedWhileFilling.append(workload)
            case .error(let code, let message): refused = (workload, code, message)
            case let other: throw TestFailure("unexpected \(other)")
            }
        }
        let refusal = try #require(refused, "a full disk never refused a job")
        #expect(refusal.code == "QUEUE_ERROR")
        #expect(refusal.message.contains("full"), "\(refusal.message)")

        // Foreground jobs flow on while the store cannot write.
        let worker = try ChildProcess("gearman", ["-p", "\(port)", "-w", "-f", "reverse", "--", "rev"])
        defer { worker.stop() }
        try await waitForWorkers(port: port, function: "reverse", count: 1)
        let reversed = try await ChildProcess.run(
            "gearman", ["-p", "\(port)", "-f", "reverse"], stdin: Data("full".utf8))
        #expect(String(decoding: reversed.stdout, as: UTF8.self) == "lluf")

        try FileManager.default.removeItem(atPath: filler)
        try await client.send(Self.submitBackground("after-space-returned"))
        #expect(try await client.receive(1).first.map { if case .jobCreated = $0 { true } else { false } } == true)
        server.stop()
        (server, port) = try await startServer(["--store", scratch.store])
        defer { server.stop() }
        let back = try await drain(port: port)
        #expect(back.contains("before-the-disk-filled"))
        #expect(back.contains("after-space-returned"))
        #expect(Set(acknowledgedWhileFilling).isSubset(of: Set(back)))
        #expect(!back.contains(refusal.workload), "a refused job ran")
    }
}

extension ChildProcess {
    static func unmount(_ path: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/umount")
        process.arguments = ["-l", path]
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
