import Foundation
import Gearman
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// Which job server implementation a test runs against. Both are started as processes on a free port.
enum ServerKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case gearmand
    case gearbox

    var testDescription: String { rawValue }
}

enum Paths {
    /// The package root, found from this file's path.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Debian's `gearman-job-server` and `gearman-tools` (scripts/install-deps.sh installs them); the
    /// environment variables GEARMAND and GEARMAN_CLI name others.
    static let gearmand = locate("GEARMAND", ["/usr/sbin/gearmand", "/usr/local/sbin/gearmand", "/opt/homebrew/sbin/gearmand"])
    static let gearmanCLI = locate("GEARMAN_CLI", ["/usr/bin/gearman", "/usr/local/bin/gearman", "/opt/homebrew/bin/gearman"])

    private static func locate(_ variable: String, _ candidates: [String]) -> String {
        if let path = ProcessInfo.processInfo.environment[variable] { return path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// The `gearbox` binary that `swift build --build-tests` (or `swift test`) linked next to the tests; built
    /// here when missing. `swift test` holds the build folder's lock while tests run, but builds nothing then,
    /// hence `--ignore-lock`.
    static var gearbox: String {
        get throws {
            let candidates = [
                Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("gearbox").path,
                packageRoot.appendingPathComponent(".build/debug/gearbox").path,
            ]
            if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
                return found
            }
            try build.get()
            return candidates[1]
        }
    }

    private static let build: Result<Void, any Error> = Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["swift", "build", "--product", "gearbox", "--ignore-lock"]
        process.currentDirectoryURL = packageRoot
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("swift build --product gearbox failed") }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A child process, killed when the test lets go of it.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    let name: String
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()

    init(_ executable: String, _ arguments: [String]) throws {
        name = ([URL(fileURLWithPath: executable).lastPathComponent] + arguments).joined(separator: " ")
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func kill(_ signal: Int32 = SIGKILL) {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, signal)
        }
    }

    deinit {
        kill()
        process.waitUntilExit()
    }
}

/// Runs a command to its end, feeding it `input`; returns its status and outputs.
func runToEnd(
    _ executable: String, _ arguments: [String], input: Data = Data(), timeout: Duration = .seconds(60)
) async throws -> (status: Int32, stdout: Data, stderr: Data) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let stdin = Pipe()
    let stdout = Pipe()
    let stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    let pid = process.processIdentifier
    let writer = Task.detached {
        try? stdin.fileHandleForWriting.write(contentsOf: input)
        try? stdin.fileHandleForWriting.close()
    }
    let collected = try await withTimeout(timeout, onTimeout: { _ = Foundation.kill(pid, SIGKILL) }) {
        async let out = Task.detached { stdout.fileHandleForReading.readDataToEndOfFile() }.value
        async let err = Task.detached { stderr.fileHandleForReading.readDataToEndOfFile() }.value
        return await (out, err)
    }
    await writer.value
    process.waitUntilExit()
    return (process.terminationStatus, collected.0, collected.1)
}

/// Fails instead of hanging: throws when `body` takes longer than `limit`.
func withTimeout<T: Sendable>(
    _ limit: Duration, onTimeout: @Sendable @escaping () -> Void = {}, _ body: @Sendable @escaping () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            onTimeout()
            throw TestFailure("timed out after \(limit)")
        }
        return value
    }
}

/// A port nothing listens on: bound to 127.0.0.1:0, then released. Never the same twice in one test run,
/// so that tests running in parallel do not start servers on one port.
func freePort() throws -> Int {
    while true {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress!.port!
        try channel.close().wait()
        if handedOutPorts.withLockedValue({ $0.insert(port).inserted }) {
            return port
        }
    }
}

private let handedOutPorts = NIOLockedValueBox<Set<Int>>([])

/// Waits until something accepts connections on the port.
func waitUntilAccepting(port: Int, while process: ChildProcess? = nil, limit: Duration = .seconds(20)) async throws {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if let process, !process.isRunning { throw TestFailure("\(process.name) exited") }
        if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
        {
            try? await channel.close()
            return
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("nothing accepted connections on port \(port)")
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

    static func start(_ kind: ServerKind) async throws -> TestServer {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = try freePort()
            let process: ChildProcess
            switch kind {
            case .gearmand:
                process = try ChildProcess(
                    Paths.gearmand,
                    ["--port", "\(port)", "--listen", "127.0.0.1", "--log-file", "none", "--threads", "1",
                     "--pid-file", NSTemporaryDirectory() + "gearmand-test-\(port).pid"])
            case .gearbox:
                process = try ChildProcess(try Paths.gearbox, ["server", "--port", "\(port)", "--threads", "1"])
            }
            do {
                try await waitUntilAccepting(port: port, while: process)
                // Another program may have taken the port first (gearmand then keeps retrying to bind):
                // make sure the server that answers is ours.
                let address = GearmanServerAddress(host: "127.0.0.1", port: port)
                let pid = try await GearmanAdminClient(server: address).send("getpid")
                guard pid.trimmingCharacters(in: .whitespacesAndNewlines) == "OK \(process.pid)" else {
                    throw TestFailure("port \(port) is served by another process (\(pid))")
                }
                return TestServer(kind: kind, port: port, process: process)
            } catch {
                lastError = error
            }
        }
        throw lastError!
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
