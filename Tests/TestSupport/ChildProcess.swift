import Foundation

/// A program the tests run: gearmand, libgearman's `gearman` and `gearadmin`, or the `gearbox` binary.
/// Output is collected as it comes, so a chatty child never blocks on a full pipe.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private let input = Pipe()
    private let lock = NSLock()
    private var outputData = Data()
    private var errorData = Data()

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: try Self.locate(executable))
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil  // end of file: stop, or the handler spins
                return
            }
            self?.lock.withLock { self?.outputData.append(data) }
        }
        errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            self?.lock.withLock { self?.errorData.append(data) }
        }
        try process.run()
    }

    deinit {
        stop()
    }

    /// Runs a program to its end with `stdin` as its input.
    public static func run(
        _ executable: String, _ arguments: [String], stdin: Data = Data(), timeout: Duration = .seconds(20)
    ) async throws -> (status: Int32, stdout: Data, stderr: String) {
        let child = try ChildProcess(executable, arguments)
        try child.write(stdin)
        child.closeInput()
        let status = try await child.wait(timeout: timeout)
        return (status, child.standardOutput, child.standardErrorText)
    }

    public func write(_ data: Data) throws {
        try input.fileHandleForWriting.write(contentsOf: data)
    }

    public func closeInput() {
        try? input.fileHandleForWriting.close()
    }

    public var standardOutput: Data { lock.withLock { outputData } }
    public var standardOutputText: String { String(decoding: standardOutput, as: UTF8.self) }
    public var standardErrorText: String { lock.withLock { String(decoding: errorData, as: UTF8.self) } }

    /// Waits for the exit, killing the child if it outlives `timeout`.
    public func wait(timeout: Duration = .seconds(20)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.interrupt()
                kill(process.processIdentifier, SIGKILL)
                throw SocketError("\(process.executableURL?.lastPathComponent ?? "child") did not finish in \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Let the readability handlers drain what the child wrote last.
        try await Task.sleep(for: .milliseconds(50))
        return process.terminationStatus
    }

    public func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
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
        throw SocketError("\(executable) is not installed; run `make test`, which installs it")
    }
}

/// Waits until something accepts connections on the port.
public func waitUntilListening(port: Int, timeout: Duration = .seconds(10)) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if (try? RawConnection(port: port)) != nil {
            return
        }
        guard ContinuousClock.now < deadline else { throw SocketError("nothing listens on port \(port)") }
        try await Task.sleep(for: .milliseconds(25))
    }
}
