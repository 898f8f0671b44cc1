import Foundation
import Gearman
import NIOCore
import TestSupport
import Testing

/// Which job server implementation a test runs against. Both are started as processes on a free port.
enum ServerKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case gearmand
    case gearbox

    var testDescription: String { rawValue }
}

/// Runs a command to its end, feeding it `input`; returns its status and outputs.
func runToEnd(
    _ executable: String, _ arguments: [String], input: Data = Data(), timeout: Duration = .seconds(60)
) async throws -> (status: Int32, stdout: Data, stderr: Data) {
    let result = try await ChildProcess.run(executable, arguments, stdin: input, timeout: timeout)
    return (result.status, result.stdout, Data(result.stderr.utf8))
}

/// A job server started for one test.
final class TestServer: Sendable {
    let kind: ServerKind
    let port: Int
    let process: ChildProcess

    var address: GearmanServerAddress { GearmanServerAddress(host: "127.0.0.1", port: port) }

    private init(kind: ServerKind, port: Int, process: ChildProcess) {
        self.kind = kind
        self.port = port
        self.process = process
    }

    /// Starts a server on a free port, or on `port` (a restart) when given; a gearbox server keeps its
    /// background jobs in the SQLite file `store` when given.
    static func start(_ kind: ServerKind, port fixedPort: Int? = nil, store: String? = nil) async throws -> TestServer {
        let executable = kind == .gearmand ? "gearmand" : try gearboxBinary()
        let arguments = { (port: Int) -> [String] in
            switch kind {
            case .gearmand:
                [
                    "--port", "\(port)", "--listen", "127.0.0.1", "--log-file", "none", "--threads", "1",
                    "--pid-file", NSTemporaryDirectory() + "gearmand-test-\(port).pid",
                ]
            case .gearbox:
                ["server", "--port", "\(port)", "--threads", "1"] + (store.map { ["--store", "sqlite:\($0)"] } ?? [])
            }
        }
        guard let fixedPort else {
            let (process, port) = try await startJobServer(executable, arguments)
            return TestServer(kind: kind, port: port, process: process)
        }
        let process = try ChildProcess(executable, arguments(fixedPort))
        try await waitUntilListening(port: fixedPort, while: process)
        return TestServer(kind: kind, port: fixedPort, process: process)
    }

    func admin(_ command: String) async throws -> String {
        try await GearmanAdminClient(server: address).send(command)
    }

    /// Waits until the admin `status` line of `function` satisfies `condition` (fields: total, running, workers).
    func waitForStatus(
        _ function: String, limit: Duration = .seconds(20), _ condition: @escaping ([Int]) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + limit
        var lastAnswer = ContinuousClock.now
        var longestGap = Duration.zero
        while ContinuousClock.now < deadline {
            let reply = try await admin("status")
            longestGap = max(longestGap, ContinuousClock.now - lastAnswer)
            lastAnswer = .now
            for line in reply.split(separator: "\n") {
                let fields = line.split(separator: "\t").map(String.init)
                if fields.count == 4, fields[0] == function, condition(fields.dropFirst().compactMap { Int($0) }) {
                    return
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        // The longest gap says whether this process was stalled (a state that came and went unseen).
        throw TestFailure(
            "status of \(function) never matched (longest gap between answers \(longestGap)): \(try await admin("status"))"
        )
    }
}

/// Reads a streamed job's events up to its first WORK_STATUS: its worker has begun it (the `sleep` functions
/// report as they start). A job's state read from the admin `status` can come and go between two reads.
func waitUntilStarted(_ events: inout AsyncThrowingStream<GearmanJobEvent, any Error>.Iterator) async throws {
    while let event = try await events.next() {
        if case .status = event { return }
    }
    throw TestFailure("the job ended before its worker said it had begun")
}

/// Reads a streamed job's events to the end; its result, or nil when the stream ended without one.
func result(_ events: inout AsyncThrowingStream<GearmanJobEvent, any Error>.Iterator) async throws -> ByteBuffer? {
    while let event = try await events.next() {
        if case .complete(let result) = event { return result }
    }
    return nil
}

/// Runs a worker until the returned task is cancelled.
func start(_ worker: GearmanWorker) -> Task<Void, any Error> {
    Task { try await worker.run() }
}
