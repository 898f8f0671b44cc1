import GearmanBench
import GearmanProtocol
import Testing

@Suite struct PayloadSizeTests {
    @Test func parsesFixedSizesRangesAndUnits() {
        #expect(PayloadSize(parsing: "64") == PayloadSize(64))
        #expect(PayloadSize(parsing: "0") == PayloadSize(0))
        #expect(PayloadSize(parsing: "64k") == PayloadSize(65536))
        #expect(PayloadSize(parsing: "1M") == PayloadSize(1_048_576))
        #expect(PayloadSize(parsing: "64-1024") == PayloadSize(minimum: 64, maximum: 1024))
        #expect(PayloadSize(parsing: "1k-2k") == PayloadSize(minimum: 1024, maximum: 2048))
    }

    @Test func refusesWhatIsNotASize() {
        for text in ["", "-", "x", "64-", "-64", "1024-64", "1-2-3", "64kb", " 64", "+64", "99999999999999999999k"] {
            #expect(PayloadSize(parsing: text) == nil, "\(text.debugDescription)")
        }
    }

    @Test func picksSizesWithinTheRange() {
        let range = PayloadSize(minimum: 10, maximum: 20)!
        var seen = Set<Int>()
        for random in 0..<UInt64(1000) {
            let size = range.size(random: random &* 0x9E37_79B9_7F4A_7C15)
            #expect((10...20).contains(size))
            seen.insert(size)
        }
        #expect(seen.count == 11)
        #expect(PayloadSize(64).size(random: 12345) == 64)
        #expect(range.description == "10-20")
        #expect(range.average == 15)
    }
}

@Suite struct ServerAddressTests {
    @Test func parsesHostsAndPorts() {
        #expect(GearmanServerAddress("127.0.0.1:4731") == GearmanServerAddress(host: "127.0.0.1", port: 4731))
        #expect(GearmanServerAddress("localhost") == GearmanServerAddress(host: "localhost", port: 4730))
        #expect(GearmanServerAddress("[::1]:4000") == GearmanServerAddress(host: "::1", port: 4000))
        #expect(GearmanServerAddress("[::1]") == GearmanServerAddress(host: "::1", port: 4730))
        #expect(GearmanServerAddress(host: "::1", port: 5).description == "[::1]:5")
    }

    @Test func refusesBadAddresses() {
        for text in ["", ":4730", "host:", "host:0", "host:70000", "host:port", "[::1", "[::1]x"] {
            #expect(GearmanServerAddress(text) == nil, "\(text.debugDescription)")
        }
    }
}

@Suite struct BenchConfigurationTests {
    @Test func theDefaultsAreValid() {
        #expect(BenchConfiguration().problems().isEmpty)
    }

    @Test func namesEveryProblem() {
        var configuration = BenchConfiguration(
            clients: 0, workers: -1, inFlight: 0, grabs: 0, length: .seconds(0), prefill: 5, function: "", loops: 0)
        configuration.rate = -1
        let problems = configuration.problems()
        for flag in [
            "--clients", "--workers", "--in-flight", "--grabs", "--duration", "--prefill", "--function",
            "--loops", "--rate",
        ] {
            #expect(problems.contains { $0.hasPrefix(flag) }, "\(flag) in \(problems)")
        }
    }

    @Test func foregroundJobsNeedWorkersSomewhere() {
        #expect(!BenchConfiguration(workers: 0).problems().isEmpty)
        #expect(BenchConfiguration(server: GearmanServerAddress(host: "h"), workers: 0).problems().isEmpty)
        #expect(BenchConfiguration(workers: 0, background: true).problems().isEmpty)
    }

    @Test func sharesAddUpToTheTotal() {
        for (total, count) in [(10, 3), (0, 4), (7, 7), (1_000_001, 8), (3, 5)] {
            let shares = (0..<count).map { BenchConfiguration.share(of: total, client: $0, of: count) }
            #expect(shares.reduce(0, +) == total)
            #expect(shares.max()! - shares.min()! <= 1)
        }
    }
}

@Suite struct LatencyRecorderTests {
    @Test func percentilesComeFromTheRecordedValues() {
        var recorder = LatencyRecorder()
        for micros in 1...1000 {
            recorder.record(nanoseconds: UInt64(micros) * 1000)
        }
        let summary = recorder.summary
        #expect(recorder.count == 1000)
        #expect(abs(summary.p50 - 500) <= 1)
        #expect(abs(summary.p90 - 900) <= 1)
        #expect(abs(summary.p99 - 990) <= 1)
        #expect(abs(summary.p999 - 999) <= 1)
        #expect(abs(summary.max - 1000) <= 1)
    }

    @Test func mergingAddsTheCounts() {
        var first = LatencyRecorder()
        var second = LatencyRecorder()
        first.record(nanoseconds: 1000)
        second.record(nanoseconds: 3_000_000)
        second.record(nanoseconds: 0)  // clamped to the lowest value
        first.add(second)
        #expect(first.count == 3)
        #expect(abs(first.summary.max - 3000) < 3)
        #expect(LatencyRecorder().summary == LatencySummary())
    }
}

@Suite struct BenchResultTests {
    static let result = BenchResult(
        server: "127.0.0.1:4730", rate: 5000, mode: "foreground", clients: 4, workers: 4, inFlight: 32, payload: "64",
        measured: .init(jobs: 10_000, seconds: 0.5), submitted: 10_000, errors: 0,
        latency: LatencySummary(p50: 100, p90: 200, p99: 300, p999: 12_345, max: 20_000),
        prefill: .init(jobs: 1000, seconds: 0.25), drain: nil,
        serverUsage: .init(
            pid: 42, cpuMicrosecondsPerJob: 7.25, rssBytes: 10_485_760, bytesPerQueuedJobBeyondPayload: 200))

    @Test func ratesAreJobsOverSeconds() {
        #expect(Self.result.measured.jobsPerSecond == 20_000)
        #expect(BenchResult.Phase(jobs: 5, seconds: 0).jobsPerSecond == 0)
    }

    @Test func jsonRoundTrips() throws {
        let json = try Self.result.json()
        #expect(json.contains("\"jobsPerSecond\":20000"))
        #expect(json.contains("\"p99\":300"))
        #expect(try BenchResult.decode(json: json) == Self.result)
        #expect(try BenchResult.decode(json: Self.result.json(pretty: true)) == Self.result)
    }

    @Test func textNamesEveryFigure() {
        let text = Self.result.text
        for part in [
            "20000 jobs/s", "p99 300 µs", "p99.9 12.3 ms", "7.3 µs CPU/job", "RSS 10.0 MiB",
            "200 bytes/queued job", "prefill     1000 jobs", "paced at 5000 jobs/s", "0 errors",
        ] {
            #expect(text.contains(part), "\(part) in \(text)")
        }
    }
}

@Suite struct ProcessSampleTests {
    @Test func readsCPUTicksPastANameWithSpacesAndParentheses() {
        let stat = "1234 (a (b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 4 0 100 1000 200"
        #expect(ProcessSample.cpuTicks(stat: stat) == 300)
        #expect(ProcessSample.times(stat: stat)?.user == 250)
        #expect(ProcessSample.times(stat: stat)?.system == 50)
        #expect(ProcessSample.cpuTicks(stat: "garbage") == nil)
    }

    @Test func addsVoluntaryAndInvoluntaryContextSwitches() {
        let status = "Name:\tgearmand\nvoluntary_ctxt_switches:\t1200\nnonvoluntary_ctxt_switches:\t34\n"
        #expect(ProcessSample.contextSwitches(status: status) == 1234)
        #expect(ProcessSample.contextSwitches(status: "Name:\tx\nvoluntary_ctxt_switches:\t5\n") == nil)
        #expect(
            ProcessSample.contextSwitches(status: "voluntary_ctxt_switches:\tmany\nnonvoluntary_ctxt_switches:\t1\n")
                == nil)
    }

    @Test func readsResidentMemory() {
        let status = "Name:\tgearmand\nVmPeak:\t  100 kB\nVmRSS:\t    2048 kB\nThreads:\t4\n"
        #expect(ProcessSample.rssBytes(status: status) == 2048 * 1024)
        #expect(ProcessSample.rssBytes(status: "Name:\tx\n") == nil)
    }

    @Test func readsThisProcess() throws {
        #if os(Linux)
        let sample = try #require(ProcessSample.read(pid: getpid()))
        #expect(sample.rssBytes > 0)
        #expect(sample.systemTicks <= sample.cpuTicks)
        // Every thread of a test process has waited for something by now.
        #expect((sample.contextSwitches ?? 0) > 0)
        #expect((ProcessSample.residentBytes(pid: getpid()) ?? 0) > 0)
        #expect(ProcessSample.residentBytes(pid: -1) == nil)
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
