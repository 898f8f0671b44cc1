import Foundation

/// A program the tests run: gearmand, libgearman's `gearman` and `gearadmin`, or the `gearbox` binary.
///
/// Its output goes to files rather than pipes: nothing has to drain them while it runs, and no dispatch
/// source watches a descriptor that a test might close.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    public let name: String
    private let input = Pipe()
    private let outputFile: URL
    private let errorFile: URL

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        let path = try Self.locate(executable)
        name = ([URL(fileURLWithPath: path).lastPathComponent] + arguments).joined(separator: " ")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gearbox-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        outputFile = folder.appendingPathComponent("stdout")
        errorFile = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        process.standardInput = input
        let output = try FileHandle(forWritingTo: outputFile)
        let error = try FileHandle(forWritingTo: errorFile)
        process.standardOutput = output
        process.standardError = error
        defer {
            // The child has its own copies; the parent's would stay open for as long as the Process object
            // lives (a fault-injection run that starts hundreds of workers ran out of descriptors).
            try? output.close()
            try? error.close()
            try? input.fileHandleForReading.close()
        }
        try process.run()
    }

    deinit {
        stop()
        closeInput()
        try? FileManager.default.removeItem(at: outputFile.deletingLastPathComponent())
    }

    /// Runs a program to its end with `stdin` as its input; kills it if it outlives `timeout`.
    public static func run(
        _ executable: String, _ arguments: [String], stdin: Data = Data(), timeout: Duration = .seconds(60)
    ) async throws -> (status: Int32, stdout: Data, stderr: String) {
        let child = try ChildProcess(executable, arguments)
        try child.write(stdin)
        child.closeInput()
        let status = try await child.wait(timeout: timeout)
        return (status, child.standardOutput, child.standardErrorText)
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    public func write(_ data: Data) throws {
        try input.fileHandleForWriting.write(contentsOf: data)
    }

    public func closeInput() {
        try? input.fileHandleForWriting.close()
    }

    public var standardOutput: Data { (try? Data(contentsOf: outputFile)) ?? Data() }
    public var standardOutputText: String { String(decoding: standardOutput, as: UTF8.self) }
    public var standardErrorText: String {
        String(decoding: (try? Data(contentsOf: errorFile)) ?? Data(), as: UTF8.self)
    }

    /// Waits for the exit, killing the child if it outlives `timeout`.
    public func wait(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                stop()
                throw TestFailure("\(name) did not finish within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    public func signal(_ signal: Int32) {
        if process.isRunning {
            kill(process.processIdentifier, signal)
        }
    }

    /// Kills the child (libgearman's `gearman -w` ignores SIGTERM) and reaps it.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning {
            usleep(5_000)
        }
    }

    private static func locate(_ executable: String) throws -> String {
        if executable.hasPrefix("/") {
            return executable
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"] {
            let candidate = "\(directory)/\(executable)"
            if FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        throw TestFailure("\(executable) is not installed; run `make test`, which installs it")
    }
}

/// Waits until something accepts connections on the port; fails early if `process` exits meanwhile.
public func waitUntilListening(port: Int, while process: ChildProcess? = nil, timeout: Duration = .seconds(20))
    async throws
{
    let deadline = ContinuousClock.now + timeout
    while true {
        if let process, !process.isRunning {
            throw TestFailure("\(process.name) exited: \(process.standardErrorText)")
        }
        if (try? await RawConnection(port: port)) != nil {
            return
        }
        guard ContinuousClock.now < deadline else { throw TestFailure("nothing listens on port \(port)") }
        try await Task.sleep(for: .milliseconds(25))
    }
}
