import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster for one test: `initdb` in a scratch folder, `postgres` on a free port of
/// 127.0.0.1 (as the `postgres` user when the tests run as root, since PostgreSQL refuses to run as root),
/// stopped and removed when the value goes away. `restart()` stops it (fast shutdown: connections are cut)
/// and starts it again on the same port and data. With `tls`, it takes TLS connections too, with a
/// self-signed certificate made by openssl.
public final class PostgresCluster: Sendable {
    public let port: Int
    public let folder: String
    public let tls: Bool
    private let binaries: String
    private let server = Mutex<ChildProcess?>(nil)

    public static let user = "gearbox"

    public init(tls: Bool = false) async throws {
        self.tls = tls
        binaries = try Self.binaryFolder()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("gearbox-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if getuid() == 0 {
            let chown = try await ChildProcess.run("chown", ["postgres:postgres", folder])
            guard chown.status == 0 else { throw TestFailure("chown \(folder): \(chown.stderr)") }
        }
        let initdb = try await ChildProcess.run(
            Self.asServerUser(),
            Self.asServerUserArguments(
                "\(binaries)/initdb",
                ["-D", "\(folder)/data", "-U", Self.user, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]),
            timeout: .seconds(120))
        guard initdb.status == 0 else { throw TestFailure("initdb failed: \(initdb.stderr)") }
        if tls {
            let data = "\(folder)/data"
            let made = try await ChildProcess.run(
                "openssl",
                [
                    "req", "-new", "-x509", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-keyout",
                    "\(data)/server.key", "-out", "\(data)/server.crt",
                ])
            guard made.status == 0 else { throw TestFailure("openssl: \(made.stderr)") }
            chmod("\(data)/server.key", 0o600)
            if getuid() == 0 {
                _ = try await ChildProcess.run(
                    "chown", ["postgres:postgres", "\(data)/server.key", "\(data)/server.crt"])
            }
        }
        port = try freePort()
        try await start()
    }

    deinit {
        server.withLock { process in
            // SIGQUIT: immediate shutdown, which also ends the server's children.
            process?.signal(SIGQUIT)
            let deadline = ContinuousClock.now + .seconds(10)
            while process?.isRunning == true, ContinuousClock.now < deadline { usleep(10_000) }
            process?.stop()
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// `postgres://gearbox@127.0.0.1:PORT/DATABASE`.
    public func url(database: String = "postgres") -> String {
        "postgres://\(Self.user)@127.0.0.1:\(port)/\(database)"
    }

    public func start() async throws {
        let process = try ChildProcess(
            Self.asServerUser(),
            Self.asServerUserArguments(
                "\(binaries)/postgres",
                [
                    "-D", "\(folder)/data", "-p", "\(port)", "-k", folder, "-c", "listen_addresses=127.0.0.1",
                    "-c", "max_connections=50", "-c", "shared_buffers=32MB",
                ] + (tls ? ["-c", "ssl=on"] : [])))
        server.withLock { $0 = process }
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            guard process.isRunning else { throw TestFailure("postgres exited: \(process.standardErrorText)") }
            if (try? await query("SELECT 1", timeout: .seconds(5))) == "1" { return }
            guard ContinuousClock.now < deadline else { throw TestFailure("postgres did not start within 60 s") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Fast shutdown: every connection is cut, open transactions roll back.
    public func stop() async throws {
        guard let process = server.withLock({ $0 }) else { return }
        process.signal(SIGINT)
        let status = try await process.wait(timeout: .seconds(60))
        guard status == 0 else {
            throw TestFailure("postgres stopped with status \(status): \(process.standardErrorText)")
        }
        server.withLock { $0 = nil }
    }

    public func restart() async throws {
        try await stop()
        try await start()
    }

    public func createDatabase(_ name: String) async throws {
        _ = try await query("CREATE DATABASE \(name)")
    }

    /// Runs SQL through psql; returns its unaligned, tuples-only output without the last newline.
    @discardableResult
    public func query(_ sql: String, database: String = "postgres", timeout: Duration = .seconds(60)) async throws
        -> String
    {
        let result = try await ChildProcess.run(
            "psql",
            [
                "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, "-d",
                database, "-c", sql,
            ],
            timeout: timeout)
        guard result.status == 0 else { throw TestFailure("psql \(sql): \(result.stderr)") }
        return String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .newlines)
    }

    /// PostgreSQL's programs: the newest version under /usr/lib/postgresql (Debian), else the PATH's.
    private static func binaryFolder() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted()
        for version in versions.reversed()
        where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/postgres") {
            return "\(root)/\(version)/bin"
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        where FileManager.default.isExecutableFile(atPath: "\(directory)/postgres") {
            return String(directory)
        }
        throw TestFailure("PostgreSQL is not installed; run `make test`, which installs it")
    }

    /// As root, programs run through `setpriv` as `postgres`; setpriv execs, so the process id is the
    /// program's own.
    private static func asServerUser() -> String {
        getuid() == 0 ? "setpriv" : "env"
    }

    private static func asServerUserArguments(_ program: String, _ arguments: [String]) -> [String] {
        getuid() == 0
            ? ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", program] + arguments
            : [program] + arguments
    }
}
