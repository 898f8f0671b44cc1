import Foundation
import GearmanBench

#if canImport(Glibc)
import Glibc
#endif

/// The job server under test, started on a free loopback port and stopped by its process id.
final class ServerProcess {
    let port: Int
    /// gearmand's HTTP protocol, when asked for.
    let httpPort: Int?
    let name: String
    private let process = Process()
    private let errorFile: URL

    /// Runs `gearbox server` (with its background jobs in `store`, when given: a SQLite file's path or a
    /// `postgres://` URL), or gearmand when `gearbox` is nil.
    init(gearbox: String?, store: String? = nil, http: Bool = false) throws {
        port = try RawSocket.freePort()
        httpPort = http ? try RawSocket.freePort() : nil
        errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-tcp-\(getpid())-\(port).stderr")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        if let gearbox {
            name = "gearbox server"
            process.executableURL = URL(fileURLWithPath: gearbox)
            process.arguments =
                ["server", "--port", "\(port)", "--listen", "127.0.0.1", "--threads", "2"]
                + (store.map { ["--store", $0.contains("://") ? $0 : "sqlite:\($0)"] } ?? [])
                + (httpPort.map { ["--http-port", "\($0)"] } ?? [])
        } else {
            name = "gearmand"
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/gearmand")
            process.arguments =
                [
                    "--port", "\(port)", "--listen", "127.0.0.1", "--threads", "2", "--log-file", "none",
                    "--pid-file",
                    FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-tcp-\(port).pid").path,
                ] + (httpPort.map { ["-r", "http", "--http-port", "\($0)"] } ?? [])
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while !RawSocket.echoes(port: port) || httpPort.map({ !RawSocket.answersHTTP(port: $0) }) ?? false {
            guard process.isRunning, Date() < deadline else {
                stop()
                throw RawSocket.Failure("\(name) did not start on port \(port): \(errorTail)")
            }
            usleep(50_000)
        }
    }

    var isRunning: Bool { process.isRunning }
    var exitStatus: Int32 { process.isRunning ? 0 : process.terminationStatus }

    /// VmRSS from /proc, in bytes; 0 once the process is gone.
    var residentBytes: Int {
        ProcessSample.residentBytes(pid: process.processIdentifier) ?? 0
    }

    var errorTail: String {
        let text = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        return String(text.suffix(4000))
    }

    /// SIGTERM, then SIGKILL if it is still there after five seconds.
    func stop() {
        defer { try? FileManager.default.removeItem(at: errorFile) }
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
