import Foundation

/// The reference server, gearmand 1.1.20 from Debian's gearman-job-server, on a free port.
public final class Gearmand: Sendable {
    public let port: Int
    private let child: ChildProcess

    public init(threads: Int = 1, extraArguments: [String] = []) async throws {
        (child, port) = try await startJobServer("gearmand") { port in
            [
                "--port", String(port), "--listen", "127.0.0.1", "--log-file", "none", "--threads", String(threads),
                "--pid-file", NSTemporaryDirectory() + "gearmand-test-\(port).pid",
            ] + extraArguments
        }
    }

    public func stop() {
        child.stop()
    }

    deinit {
        child.stop()
    }
}

/// The package's root folder, found from this file's place in it.
public let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `gearbox` binary that `swift build` made for the running tests.
public func gearboxBinary() throws -> String {
    let candidates = [
        Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("gearbox").path,
        packageRoot.appendingPathComponent(".build/debug/gearbox").path,
    ]
    for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
        return candidate
    }
    throw TestFailure("the gearbox binary is not built; run `swift build` first (`make test` does)")
}
