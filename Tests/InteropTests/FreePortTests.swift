import Foundation
import TestSupport
import Testing

/// The ports tests start servers on lie where the kernel never picks one by itself (for a `bind` to port 0
/// or an outgoing connection), so none can be taken between the check and the server's own `bind`.
@Suite struct FreePortTests {
    @Test func portsLieOutsideTheEphemeralRangeAndAreNeverHandedOutTwice() throws {
        let text = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        let bounds = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        try #require(bounds.count == 2)
        let ports = try (0..<200).map { _ in try freePort() }
        #expect(ports.allSatisfy { !(bounds[0]...bounds[1]).contains($0) && $0 > 1_023 })
        #expect(Set(ports).count == ports.count)
    }
}
