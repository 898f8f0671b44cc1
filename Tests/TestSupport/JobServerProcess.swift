import Foundation

/// Starts a job server process (gearmand or `gearbox server`) on a free port, and makes sure the server that
/// answers there is this process: between finding the port free and binding it, another test may take it,
/// and a test that then spoke to someone else's server (`shutdown`, say) would break both. Tries up to five
/// ports.
public func startJobServer(
    _ executable: String, _ arguments: (Int) -> [String]
) async throws -> (process: ChildProcess, port: Int) {
    var lastError: any Error = TestFailure("\(executable) was not started")
    for _ in 0..<5 {
        let port = try freePort()
        let process = try ChildProcess(executable, arguments(port))
        do {
            try await waitUntilListening(port: port, while: process)
            let admin = try await RawConnection(port: port)
            try await admin.send(line: "getpid")
            let reply = try await admin.receiveAdminReply().trimmingCharacters(in: .whitespacesAndNewlines)
            guard reply == "OK \(process.pid)" else {
                throw TestFailure("port \(port) is served by another process (\(reply))")
            }
            return (process, port)
        } catch {
            process.stop()
            lastError = error
        }
    }
    throw lastError
}

/// `gearbox server --ssl` on a free port: TLS on its only port, as gearmand's `--ssl` puts it, with the
/// server certificate of `certificates` and no client certificate asked for; returns once it listens. A TLS
/// port cannot be asked `getpid` in plaintext, so unlike `startJobServer` this does not check who answers.
public func startGearboxSSLServer(_ certificates: TestCertificates) async throws -> (process: ChildProcess, port: Int) {
    let port = try freePort()
    let server = try ChildProcess(
        try gearboxBinary(),
        [
            "server", "--port", "\(port)", "--ssl", "--ssl-certificate", certificates.serverCertificate,
            "--ssl-key", certificates.serverKey,
        ])
    do {
        try await waitUntilListening(port: port, while: server)
    } catch {
        server.stop()
        throw error
    }
    return (server, port)
}
