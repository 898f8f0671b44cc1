import Foundation
import TestSupport

/// Test hosts on one machine: network namespaces joined by veth pairs to a bridge in this process's own
/// namespace, which is a host too (10.213.S.254). Host `n` is 10.213.S.`n`, on a subnet S that no other
/// interface of the machine uses (another test run may have a network of its own). Needs root; every name
/// carries this process's id, and `tearDown()` removes what was made.
final class TestNetwork: Sendable {
    let hosts: Int
    private let tag: String
    private let subnet: Int

    var bridge: String { "gbb\(tag)" }
    func namespace(_ host: Int) -> String { "gbn\(tag)h\(host)" }
    func address(_ host: Int) -> String { "10.213.\(subnet).\(host)" }
    private func outside(_ host: Int) -> String { "gbv\(tag)h\(host)" }
    private func inside(_ host: Int) -> String { "gbp\(tag)h\(host)" }

    static var isAvailable: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") }

    init(hosts: Int) async throws {
        self.hosts = hosts
        tag = String(getpid() % 100_000)
        let used = try await ChildProcess.run("ip", ["-o", "-4", "addr", "show"], timeout: .seconds(20)).stdout
        let text = String(decoding: used, as: UTF8.self)
        let start = Int(getpid()) % 250
        guard let free = (0..<250).map({ (start + $0) % 250 + 1 }).first(where: { !text.contains("10.213.\($0).") })
        else {
            throw TestFailure("no free 10.213.x.0/24 subnet for the test hosts")
        }
        subnet = free
        do {
            try await ip("link", "add", bridge, "type", "bridge")
            try await ip("addr", "add", "10.213.\(subnet).254/24", "dev", bridge)
            try await ip("link", "set", bridge, "up")
            for host in 1...hosts {
                try await ip("netns", "add", namespace(host))
                try await ip("link", "add", outside(host), "type", "veth", "peer", "name", inside(host))
                try await ip("link", "set", inside(host), "netns", namespace(host))
                try await ip("link", "set", outside(host), "master", bridge)
                try await ip("link", "set", outside(host), "up")
                try await ip(
                    "netns", "exec", namespace(host), "ip", "addr", "add", "\(address(host))/24", "dev", inside(host))
                try await ip("netns", "exec", namespace(host), "ip", "link", "set", inside(host), "up")
                try await ip("netns", "exec", namespace(host), "ip", "link", "set", "lo", "up")
            }
        } catch {
            await tearDown()
            throw error
        }
    }

    /// Runs a program on a host; it keeps its process id (`ip netns exec` execs it).
    func start(on host: Int, _ executable: String, _ arguments: [String]) throws -> ChildProcess {
        try ChildProcess("ip", ["netns", "exec", namespace(host), executable] + arguments)
    }

    /// Cuts a host's only link, or mends it.
    func setLink(of host: Int, up: Bool) async throws {
        try await ip("link", "set", outside(host), up ? "up" : "down")
    }

    func tearDown() async {
        for host in 1...hosts {
            try? await ip("netns", "del", namespace(host))
            try? await ip("link", "del", outside(host))
        }
        try? await ip("link", "del", bridge)
    }

    private func ip(_ arguments: String...) async throws {
        let result = try await ChildProcess.run("ip", arguments, timeout: .seconds(20))
        guard result.status == 0 else {
            throw TestFailure("ip \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        }
    }
}
