import Foundation
import GearmanProtocol
import NIOCore
import TestSupport
import Testing

/// The same admin conversation against gearmand 1.1.20 and Gearbox, compared byte for byte.
@Suite(.serialized) struct AdminCompatibilityTests {
    /// Commands whose replies do not depend on file descriptors, process ids or versions.
    static let conversation = [
        "status", "prioritystatus", "show jobs", "show unique jobs", "STATUS", "verbose",
        "maxqueue", "maxqueue queued 10", "create function", "drop function nope", "drop", "cancel job",
        "cancel job H:nohost:1", "show", "show foo", "bogus", "",
    ]

    /// Queues three background jobs the way any client would, then holds one running with a worker that never answers.
    private func prepare(port: Int) async throws -> RawConnection {
        let client = try await RawConnection(port: port)
        for (unique, priority) in [("alpha", GearmanPriority.high), ("beta", .normal), ("gamma", .low)] {
            try await client.send(
                .submitJob(
                    GearmanSubmitJob(
                        function: ByteBuffer(string: "queued"), unique: ByteBuffer(string: unique),
                        workload: ByteBuffer(string: "w"), priority: priority, isBackground: true)))
            _ = try await client.receive()
        }
        let worker = try await RawConnection(port: port)
        try await worker.send(.canDo(function: ByteBuffer(string: "queued")))
        try await worker.send(.grabJob(.unique))
        guard case .jobAssignUnique = try await worker.receive().first else { throw TestFailure("no assignment") }
        return worker
    }

    private func transcript(port: Int) async throws -> [String] {
        let worker = try await prepare(port: port)
        defer { _ = worker }
        var replies: [String] = []
        for command in Self.conversation {
            let admin = try await RawConnection(port: port)
            try await admin.send(line: command)
            replies.append(try await admin.receiveAdminReply())
        }
        return replies
    }

    @Test func repliesMatchGearmandByteForByte() async throws {
        let gearmand = try await Gearmand()
        defer { gearmand.stop() }
        let reference = try await transcript(port: gearmand.port)
        let ours = try await withGearboxServer { server in try await transcript(port: server.port) }
        for (index, command) in Self.conversation.enumerated() {
            #expect(canonical(ours[index]) == canonical(reference[index]), "reply to \(command.debugDescription)")
        }
    }

    @Test func workersAndIdentityRepliesHaveGearmandsShape() async throws {
        func lines(port: Int) async throws -> (workers: String, pid: String, version: String) {
            let worker = try await RawConnection(port: port)
            try await worker.send(.setClientID(ByteBuffer(string: "worker-A")))
            try await worker.send(.canDo(function: ByteBuffer(string: "other")))
            try await worker.send(.canDo(function: ByteBuffer(string: "resize")))
            try await worker.send(.echo(ByteBuffer(string: "sync")))
            _ = try await worker.receive()
            let admin = try await RawConnection(port: port)
            try await admin.send(line: "workers")
            let workers = try await admin.receiveAdminReply()
            try await admin.send(line: "getpid")
            let pid = try await admin.receiveAdminReply()
            try await admin.send(line: "version")
            return (workers, pid, try await admin.receiveAdminReply())
        }
        let gearmand = try await Gearmand()
        defer { gearmand.stop() }
        let reference = try await lines(port: gearmand.port)
        let ours = try await withGearboxServer { server in try await lines(port: server.port) }
        let normalise = { (text: String) in
            text.split(separator: "\n").map { line in
                line.split(separator: " ", maxSplits: 1).dropFirst().joined()
            }.sorted()
        }
        #expect(normalise(ours.workers) == normalise(reference.workers))
        #expect(normalise(ours.workers).contains("127.0.0.1 worker-A : resize other"))
        #expect(ours.pid == "OK \(getpid())\n")
        #expect(reference.pid.hasPrefix("OK ") && reference.pid.hasSuffix("\n"))
        #expect(ours.version.hasPrefix("OK 1.1.20") && reference.version.hasPrefix("OK 1.1.20"))
    }

    /// gearmand lists table rows in hash order: rows are compared as a sorted list, every byte of each row kept.
    private func canonical(_ reply: String) -> String {
        let host = "H:\(hostName()):"
        guard reply.hasSuffix(".\n") else { return reply.replacingOccurrences(of: host, with: "H:HOST:") }
        let rows = reply.dropLast(2).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return rows.sorted().joined(separator: "\n").replacingOccurrences(of: host, with: "H:HOST:") + "\n.\n"
    }

    private func hostName() -> String {
        ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
    }
}
