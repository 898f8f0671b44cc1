import ArgumentParser
import Foundation
import GearmanFuzzing

#if canImport(Glibc)
import Glibc
#endif

/// Mutates real conversations and sends them to a job server process over TCP. Every `--check-every` inputs
/// a fresh connection must still get its ECHO back, and the server's resident memory must stay within
/// `--max-growth` of where it started. A failure saves the inputs sent since the last good check and exits 1.
@main
struct TCPFuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz-tcp", abstract: "Fuzzes a Gearman job server process over TCP.")

    @Option(help: "The gearbox binary to run as `gearbox server`.")
    var gearbox = ".build/debug/gearbox"

    @Option(
        help:
            "Keep the server's background jobs in this SQLite file or postgres:// database (a durable store under fuzzing)."
    )
    var store: String?

    @Flag(help: "Fuzz gearmand instead, for comparison.")
    var gearmand = false

    @Flag(help: "Send mutated HTTP requests to the server's HTTP port (gearmand's HTTP protocol) instead.")
    var http = false

    @Option(help: "Seed of the mutations: the same seed sends the same inputs.")
    var seed: UInt64 = 1

    @Option(help: "Stop after this many inputs.")
    var inputs: Int?

    @Option(help: "Stop after this many seconds.")
    var seconds: Double?

    @Option(help: "Inputs between two liveness and memory checks.")
    var checkEvery = 200

    @Option(help: "Largest growth of the server's resident memory allowed, in MiB.")
    var maxGrowth = 256

    @Option(help: "Folder for the inputs of a failure.")
    var crashes = "Fuzz/crashes"

    mutating func run() throws {
        signal(SIGPIPE, SIG_IGN)
        guard inputs != nil || seconds != nil else {
            throw ValidationError("give --inputs or --seconds")
        }
        let server = try ServerProcess(gearbox: gearmand ? nil : gearbox, store: store, http: http)
        defer { server.stop() }
        var mutator = Mutator(seed: seed, corpus: http ? HTTPConversations.all : Conversations.all)
        let target = server.httpPort ?? server.port
        var sinceCheck: [[UInt8]] = []
        let started = Date()
        let startRSS = try check(server, sinceCheck: [])
        var peakRSS = startRSS
        var sent = 0
        while !done(sent: sent, started: started) {
            let bytes = mutator.next()
            sinceCheck.append(bytes)
            RawSocket.exchange(bytes, port: target)
            sent += 1
            if sent % checkEvery == 0 {
                let rss = try check(server, sinceCheck: sinceCheck)
                peakRSS = max(peakRSS, rss)
                guard rss - startRSS <= maxGrowth * 1024 * 1024 else {
                    try fail(
                        "resident memory grew from \(startRSS / 1024) KiB to \(rss / 1024) KiB", server, sinceCheck)
                }
                sinceCheck.removeAll(keepingCapacity: true)
            }
        }
        let rss = try check(server, sinceCheck: sinceCheck)
        peakRSS = max(peakRSS, rss)
        let elapsed = Date().timeIntervalSince(started)
        print(
            "fuzz-tcp: \(server.name)\(http ? " (HTTP port)" : ""), seed \(seed): \(sent) inputs in \(String(format: "%.1f", elapsed)) s, "
                + "\(sent / checkEvery + 1) checks passed, resident memory \(startRSS / 1024) KiB at start, "
                + "\(rss / 1024) KiB at end, \(peakRSS / 1024) KiB peak; 0 crashes")
    }

    private func done(sent: Int, started: Date) -> Bool {
        if let inputs, sent >= inputs { return true }
        if let seconds, Date().timeIntervalSince(started) >= seconds { return true }
        return false
    }

    /// The server is alive and answers ECHO on a fresh connection; returns its resident memory in bytes.
    private func check(_ server: ServerProcess, sinceCheck: [[UInt8]]) throws -> Int {
        guard server.isRunning else {
            try fail("the server exited with status \(server.exitStatus)", server, sinceCheck)
        }
        guard RawSocket.echoes(port: server.port) else {
            try fail("a fresh connection got no ECHO_RES", server, sinceCheck)
        }
        if let httpPort = server.httpPort, !RawSocket.answersHTTP(port: httpPort) {
            try fail("a fresh HTTP connection got no answer", server, sinceCheck)
        }
        return server.residentBytes
    }

    private func fail(_ reason: String, _ server: ServerProcess, _ inputs: [[UInt8]]) throws -> Never {
        try FileManager.default.createDirectory(atPath: crashes, withIntermediateDirectories: true)
        for (index, input) in inputs.enumerated() {
            let path = "\(crashes)/seed\(seed)-\(String(format: "%05d", index))"
            FileManager.default.createFile(atPath: path, contents: Data(input))
        }
        print("fuzz-tcp: \(server.name): \(reason)")
        print("fuzz-tcp: the \(inputs.count) inputs since the last good check are in \(crashes)/seed\(seed)-*")
        print("fuzz-tcp: the server's standard error ends with:\n\(server.errorTail)")
        throw ExitCode.failure
    }
}
