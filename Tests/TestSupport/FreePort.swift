import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP port on 127.0.0.1 that nothing listens on right now, never the same twice in one test run, so that
/// tests running in parallel do not start servers on one port.
///
/// It lies below the kernel's ephemeral range (`ip_local_port_range`), from which the kernel picks the port of
/// every `bind` to port 0 and of every outgoing connection. A port from that range, once this check closed it,
/// could be taken by any of those before the server it was meant for bound it; the server would then fail to
/// start while the test talked to whatever had the port (seen: a front child process that lost its port to an
/// in-process front of another test, whose uploads the first test then sent there). Below the range only an
/// explicit `bind` takes a port, and every test gets its ports from here.
public func freePort() throws -> Int {
    let candidates = PortsOutsideTheEphemeralRange.shared.candidates
    guard !candidates.isEmpty else { throw TestFailure("no ports lie outside the ephemeral range") }
    var random = SystemRandomNumberGenerator()
    for _ in 0..<10_000 {
        let port = Int.random(in: candidates, using: &random)
        if isUnused(port), PortsOutsideTheEphemeralRange.shared.claim(port) {
            return port
        }
    }
    throw TestFailure("no free port in \(candidates)")
}

private final class PortsOutsideTheEphemeralRange: Sendable {
    static let shared = PortsOutsideTheEphemeralRange()
    let candidates: Range<Int>
    private let handedOut = NIOLockedValueBox<Set<Int>>([])

    private init() {
        // Linux's default range is 32768-60999; IANA's, which Darwin uses, 49152-65535.
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let bounds = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        let (low, high) = bounds.count == 2 ? (bounds[0], bounds[1]) : (49_152, 65_535)
        let below = max(1_024, low - 12_768)..<low
        candidates = below.count >= 1_000 ? below : (high + 1)..<max(high + 1, 65_536)
    }

    func claim(_ port: Int) -> Bool {
        handedOut.withLockedValue { $0.insert(port).inserted }
    }
}

/// Whether a socket can bind `port` on 127.0.0.1 now (no listener, no connection in TIME_WAIT on it).
private func isUnused(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port)).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

/// Why a test's environment let it down: a missing program, a port, a child that would not stop.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String

    init(_ call: String, _ code: Int32) {
        description = "\(call) failed: \(String(cString: strerror(code)))"
    }

    public init(_ description: String) {
        self.description = description
    }
}
