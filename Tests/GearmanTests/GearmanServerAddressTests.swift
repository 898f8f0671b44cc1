import Gearman
import Testing

@Suite struct GearmanServerAddressTests {
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1", 4730),
        ("example.com:4731", "example.com", 4731),
        ("[::1]:4732", "::1", 4732),
        ("[::1]", "::1", 4730),
        ("::1", "::1", 4730),
        ("localhost:1", "localhost", 1),
    ])
    func parses(text: String, host: String, port: Int) {
        #expect(GearmanServerAddress(text) == GearmanServerAddress(host: host, port: port))
    }

    @Test(arguments: ["", ":4730", "host:", "host:0", "host:65536", "host:x", "[::1", "[::1]x", "[]:4730"])
    func refuses(text: String) {
        #expect(GearmanServerAddress(text) == nil)
    }

    @Test func describesItselfParseably() {
        for address in [GearmanServerAddress(host: "::1", port: 9), GearmanServerAddress(host: "h", port: 10)] {
            #expect(GearmanServerAddress(address.description) == address)
        }
    }
}
