import Foundation
import Gearman
import NIOCore
import TestSupport
import Testing

/// Servers, a worker and a client on separate hosts (network namespaces), and a host's link cut while jobs
/// flow: everyone notices in bounded time (dead-peer detection, not the kernel's two hours), the other
/// server's jobs complete, and everything reconnects once the link is back. Runs as root, as `make test` does.
@Suite(.serialized, .enabled(if: TestNetwork.isAvailable, "needs root and iproute2 for network namespaces"))
struct MultiHostTests {
    @Test func aCutLinkIsNoticedAndHealed() async throws {
        let network = try await TestNetwork(hosts: 3)
        do {
            try await run(network)
        } catch {
            await network.tearDown()
            throw error
        }
        await network.tearDown()
    }

    private func run(_ network: TestNetwork) async throws {
        let gearbox = try gearboxBinary()
        let servers = try [1, 2].map { host in
            try network.start(
                on: host, gearbox, ["server", "--listen", network.address(host), "--port", "4730", "--threads", "1"])
        }
        let addresses = [1, 2].map { GearmanServerAddress(host: network.address($0), port: 4730) }
        for (server, address) in zip(servers, addresses) {
            try await waitUntilServing(address, process: server)
        }
        let worker = try network.start(
            on: 3, gearbox,
            ["worker", "-f", "reverse", "-c", "4", "--client-id", "far-worker"]
                + addresses.flatMap { ["--server", $0.description] })
        for address in addresses {
            try await waitForWorker(at: address)
        }
        let onFirst = GearmanClient(servers: [addresses[0]])
        let onSecond = GearmanClient(servers: [addresses[1]])
        try await withDeadline(.seconds(240)) {
            #expect(
                String(buffer: try await onFirst.submit("reverse", workload: Array("one".utf8), timeout: .seconds(10)))
                    == "eno")

            // A job that no worker takes keeps a call waiting on the first server while its host drops off.
            let stranded = Task { () -> (any Error)? in
                do {
                    _ = try await onFirst.submit("nobody-serves-this", workload: Array("x".utf8))
                    return nil
                } catch {
                    return error
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            let cut = ContinuousClock.now
            try await network.setLink(of: 1, up: false)

            // The second server goes on serving the worker's jobs meanwhile.
            for index in 0..<20 {
                let text = "job-\(index)"
                let result = try await onSecond.submit("reverse", workload: Array(text.utf8), timeout: .seconds(10))
                #expect(String(buffer: result) == String(text.reversed()))
            }

            let failure = await stranded.value
            let noticed = ContinuousClock.now - cut
            #expect(failure as? GearmanError == .connectionLost(server: addresses[0]))
            #expect(noticed < .seconds(60), "the client noticed the dead server after \(noticed)")
            print("multi-host: the client noticed the cut link after \(noticed)")

            try await network.setLink(of: 1, up: true)
            try await waitForWorker(at: addresses[0], limit: .seconds(90))
            let healed = ContinuousClock.now - cut
            print("multi-host: the worker was back on the first server \(healed) after the cut")
            #expect(
                String(buffer: try await onFirst.submit("reverse", workload: Array("back".utf8), timeout: .seconds(10)))
                    == "kcab")
        }
        await onFirst.shutdown()
        await onSecond.shutdown()
        worker.stop()
        servers.forEach { $0.stop() }
    }

    private func waitUntilServing(_ address: GearmanServerAddress, process: ChildProcess) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw TestFailure("\(process.name) exited: \(process.standardErrorText)") }
            if (try? await GearmanAdminClient(server: address).send("version", timeout: .seconds(2))) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("\(address) never answered")
    }

    /// Until the server's `workers` lists the worker with `reverse`.
    private func waitForWorker(at address: GearmanServerAddress, limit: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let workers = try? await GearmanAdminClient(server: address).send("workers", timeout: .seconds(2)),
                workers.contains("far-worker : reverse")
            {
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestFailure("the worker never registered with \(address)")
    }
}
