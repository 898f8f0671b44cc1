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
        while ContinuousClock.now < deadline {
            let reply = try await admin("status")
            for line in reply.split(separator: "\n") {
                let fields = line.split(separator: "\t").map(String.init)
                if fields.count == 4, fields[0] == function, condition(fields.dropFirst().compactMap { Int($0) }) {
                    return
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("status of \(function) never matched: \(try await admin("status"))")
    }
}

/// Runs a worker until the returned task is cancelled.
func start(_ worker: GearmanWorker) -> Task<Void, any Error> {
    Task { try await worker.run() }
}
