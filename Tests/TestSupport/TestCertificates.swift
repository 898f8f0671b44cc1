import Foundation

/// A throwaway certificate authority made by openssl, and certificates it signed: the server's (for
/// `localhost` and 127.0.0.1) and two clients', `operator` and `stranger`. Another authority's `rogue`
/// client certificate is there too.
public final class TestCertificates: Sendable {
    public let folder: String

    public var caFile: String { folder + "/ca.pem" }
    public var serverCertificate: String { folder + "/server.pem" }
    public var serverKey: String { folder + "/server.key" }
    public func certificate(_ client: String) -> String { folder + "/\(client).pem" }
    public func key(_ client: String) -> String { folder + "/\(client).key" }

    public init() async throws {
        folder = NSTemporaryDirectory() + "gearbox-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(
            toFile: folder + "/server.ext", atomically: true, encoding: .utf8)
        try await openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Gearbox Test CA",
            "-keyout", folder + "/ca.key", "-out", caFile,
        ])
        try await openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Rogue CA",
            "-keyout", folder + "/rogue-ca.key", "-out", folder + "/rogue-ca.pem",
        ])
        try await sign("server", subject: "localhost", extensions: folder + "/server.ext")
        try await sign("operator", subject: "operator")
        try await sign("stranger", subject: "stranger")
        try await sign("rogue", subject: "operator", authority: "rogue-ca")
    }

    deinit {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func sign(_ name: String, subject: String, extensions: String? = nil, authority: String = "ca") async throws
    {
        try await openssl([
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(subject)",
            "-keyout", folder + "/\(name).key", "-out", folder + "/\(name).csr",
        ])
        try await openssl(
            [
                "x509", "-req", "-days", "2", "-in", folder + "/\(name).csr", "-CA", folder + "/\(authority).pem",
                "-CAkey", folder + "/\(authority).key", "-CAcreateserial", "-out", folder + "/\(name).pem",
            ]
                + (extensions.map { ["-extfile", $0] } ?? []))
    }

    private func openssl(_ arguments: [String]) async throws {
        let result = try await ChildProcess.run("openssl", arguments, timeout: .seconds(30))
        guard result.status == 0 else { throw TestFailure("openssl \(arguments[0]): \(result.stderr)") }
    }
}

/// Where `scripts/install-deps.sh` puts Python packages for the tests (`gear`), for PYTHONPATH.
public let testPythonPath: String = packageRoot.appendingPathComponent(".build/python").path

/// Runs one of the Python peers in Tests/Peers with the test's Python packages.
public func pythonPeer(_ script: String, _ arguments: [String]) throws -> ChildProcess {
    guard FileManager.default.fileExists(atPath: testPythonPath + "/gear") else {
        throw TestFailure("the Python package gear is not installed in \(testPythonPath); run scripts/install-deps.sh")
    }
    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONPATH"] = testPythonPath
    environment["PYTHONUNBUFFERED"] = "1"
    let path = packageRoot.appendingPathComponent("Tests/Peers/\(script)").path
    return try ChildProcess("python3", [path] + arguments, environment: environment)
}
