import Foundation
import GearmanBench
import GearmanProtocol
import TestSupport
import Testing

/// Short runs over real sockets against a `gearbox server` process. They check that every job is accounted
/// for, never how fast.
@Suite(.serialized) struct BenchRunTests {
    /// Runs `configuration` against a fresh `gearbox server --threads 2`.
    private func run(_ configuration: BenchConfiguration) async throws -> BenchResult {
        let (process, port) = try await startJobServer(try gearboxBinary()) { port in
            ["server", "--port", String(port), "--threads", "2"]
        }
        defer { process.stop() }
        var configuration = configuration
        configuration.server = GearmanServerAddress(host: "127.0.0.1", port: port)
        configuration.serverPID = process.pid
        return try await BenchRunner(configuration: configuration).run()
    }

    @Test func aRunWithNoServerAndNoEmbeddedOneIsRefused() async throws {
        await #expect(throws: BenchRunner.Failure.self) {
            _ = try await BenchRunner(configuration: BenchConfiguration(length: .jobs(10))).run()
        }
    }

    @Test func foregroundJobsAreAllAccountedFor() async throws {
        let result = try await run(
            BenchConfiguration(
                clients: 3, workers: 2, inFlight: 8, grabs: 4, payload: PayloadSize(minimum: 0, maximum: 300)!,
                length: .jobs(3001), warmUp: .jobs(100))
        )
        #expect(result.errors == 0)
        #expect(result.measured.jobs == 3001)
        #expect(result.submitted == 3001)
        #expect(result.latency.p50 > 0)
        #expect(result.latency.max >= result.latency.p99)
        #expect(result.serverUsage?.includesGenerator == false)
        #expect(result.serverUsage?.cpuMicrosecondsPerJob != nil)
    }

    /// Image-sized payloads arrive over many reads and are written by reference: none may be lost or cut.
    @Test func largePayloadsAreNeitherLostNorCut() async throws {
        let result = try await run(
            BenchConfiguration(
                clients: 2, workers: 2, inFlight: 4, grabs: 2, payload: PayloadSize(minimum: 1, maximum: 200_000)!,
                length: .jobs(300), warmUp: .jobs(0))
        )
        #expect(result.errors == 0)
        #expect(result.measured.jobs == 300)
    }

    @Test func backgroundWithPrefillAndDrain() async throws {
        let result = try await run(
            BenchConfiguration(
                clients: 2, workers: 2, inFlight: 16, background: true, length: .jobs(2000), warmUp: .jobs(0),
                prefill: 500)
        )
        #expect(result.errors == 0)
        #expect(result.measured.jobs == 2000)
        #expect(result.prefill?.jobs == 500)
        #expect(result.emptyQueue?.jobs == 2000)
        #expect(result.drain?.jobs == 4500)
    }

    @Test func pacedRunsFinishTheirTime() async throws {
        let result = try await run(
            BenchConfiguration(
                clients: 2, workers: 1, length: .seconds(0.5), warmUp: .seconds(0), rate: 2000)
        )
        #expect(result.errors == 0)
        #expect(result.measured.jobs == result.submitted)
        #expect(result.measured.jobs > 0)
        #expect(result.measured.jobs <= 1100)
    }

    @Test func theBenchCommandMeasuresTheEmbeddedServerAndGearmand() async throws {
        let gearbox = try gearboxBinary()
        let gearmand = try await Gearmand(threads: 2)
        defer { gearmand.stop() }
        let runs: [[String]] = [
            ["--jobs", "2000", "--clients", "2", "--workers", "2"],
            ["--jobs", "2000", "--clients", "2", "--workers", "2", "--server", "127.0.0.1:\(gearmand.port)"],
            ["--jobs", "2000", "--background", "--server", "127.0.0.1:\(gearmand.port)", "--function", "bg"],
        ]
        for arguments in runs {
            let (status, output, errors) = try await ChildProcess.run(
                gearbox, ["bench", "--json", "--quiet"] + arguments, timeout: .seconds(60))
            #expect(status == 0, "\(arguments): \(errors)")
            let result = try BenchResult.decode(json: String(decoding: output, as: UTF8.self))
            #expect(result.errors == 0, "\(arguments)")
            #expect(result.measured.jobs == 2000, "\(arguments)")
            #expect(result.submitted == 2000, "\(arguments)")
        }
    }

    @Test func theBenchCommandRefusesBadArguments() async throws {
        let gearbox = try gearboxBinary()
        for arguments in [
            ["--payload", "big"], ["--jobs", "5", "--duration", "1"], ["--server", "host:port"],
            ["--clients", "0"],
        ] {
            let (status, _, errors) = try await ChildProcess.run(gearbox, ["bench"] + arguments)
            #expect(status != 0, "\(arguments)")
            #expect(errors.contains("Error"), "\(arguments): \(errors)")
        }
    }
}
