import GearmanServer
import NIOCore
import Testing

struct IPNetworkTests {
    private func address(_ text: String) throws -> SocketAddress {
        try SocketAddress(ipAddress: text, port: 4730)
    }

    @Test func cidrRangesMatchTheirAddressesOnly() throws {
        let network = try #require(IPNetwork("10.20.0.0/16"))
        #expect(network.description == "10.20.0.0/16")
        #expect(network.contains(try address("10.20.255.1")))
        #expect(!network.contains(try address("10.21.0.1")))
        #expect(network.contains(try address("::ffff:10.20.3.4")))
        #expect(!network.contains(nil))
        #expect(IPNetwork("10.20.30.40/12")?.description == "10.16.0.0/12")
    }

    @Test func oneAddressIsAWholePrefix() throws {
        let one = try #require(IPNetwork("192.0.2.7"))
        #expect(one.prefixLength == 32)
        #expect(one.contains(try address("192.0.2.7")))
        #expect(!one.contains(try address("192.0.2.8")))
        let six = try #require(IPNetwork("fd00::/8"))
        #expect(six.contains(try address("fd12:3456::1")))
        #expect(!six.contains(try address("fe80::1")))
        #expect(!six.contains(try address("10.0.0.1")))
        let everything = try #require(IPNetwork("::/0"))
        #expect(everything.contains(try address("2001:db8::1")))
    }

    @Test func loopbackIsTheDefault() throws {
        #expect(IPNetwork.loopback.contains { $0.contains(try! address("127.0.0.9")) })
        #expect(IPNetwork.loopback.contains { $0.contains(try! address("::1")) })
        #expect(!IPNetwork.loopback.contains { $0.contains(try! address("10.0.0.1")) })
    }

    @Test func malformedRangesAreRefused() {
        for text in [
            "", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0/8", "::1/129", "host.example", "10.0.0.0/8/8", "1.2.3.4/0008",
        ] {
            #expect(IPNetwork(text) == nil, "\(text)")
        }
    }
}
