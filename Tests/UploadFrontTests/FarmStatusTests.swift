import Gearman
import TestSupport
import Testing

@testable import UploadFront

#if canImport(Glibc)
import Glibc
#endif

/// The front refuses uploads early only on evidence that no job can run: a server that refused the connection
/// or answered that it has no worker. A server that took the connection and was slow to answer (a busy
/// machine) is an open question, left to the jobs' own deadline.
@Suite struct FarmStatusTests {
    @Test func aServerThatTakesTheConnectionButDoesNotAnswerLeavesUploadsOpen() async throws {
        let silent = try SilentListener()
        defer { silent.close() }
        let farm = FarmStatus(
            servers: [GearmanServerAddress(host: "127.0.0.1", port: silent.port)], function: "thumbnail")
        let report = await farm.report(fresh: true)
        #expect(!report.ready)
        #expect(report.servers.map(\.late) == [true])
        #expect(report.mayTakeJobs)
    }

    @Test func aServerThatRefusesTheConnectionIsNamedInTheRefusal() async throws {
        let port = try freePort()
        let farm = FarmStatus(servers: [GearmanServerAddress(host: "127.0.0.1", port: port)], function: "thumbnail")
        let report = await farm.report(fresh: true)
        #expect(report.servers.map(\.late) == [false])
        #expect(!report.mayTakeJobs)
        #expect(report.refusal.contains("127.0.0.1:\(port) did not answer"), "\(report.refusal)")
    }
}

/// A socket that listens on 127.0.0.1 and never accepts: the kernel completes each connection and nothing
/// ever answers on it.
private struct SilentListener {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
                    && listen(descriptor, 8) == 0
            }
        }
        guard listening else {
            Glibc.close(descriptor)
            throw TestFailure("listen: \(errno)")
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(descriptor) }
}
