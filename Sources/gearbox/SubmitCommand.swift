import ArgumentParser
import Gearman
import NIOCore

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Run a job and print its result.",
        discussion: """
            The workload is the argument, or standard input when there is none. WORK_DATA is written to standard \
            output as it arrives, then the result. On failure, exception or timeout the exit status is 1 and \
            the message goes to standard error.

            With -n, each line of standard input is a job of its own (as `gearman -n`), submitted as soon as it \
            is read, with up to --max-in-flight at once: `tail -f access_log | gearbox submit -n -b -f logger`. \
            Foreground results are printed one per line, in the order of the input; a job that fails is \
            reported on standard error with its line number, the others go on, and the exit status is 1.
            """)

    @Option(name: [.customShort("f"), .long], help: "The function to run.")
    var function: String

    @OptionGroup var servers: ServerOptions

    @OptionGroup(title: "Logging") var logging: LoggingOptions

    @Flag(
        name: [.customShort("b"), .long], help: "Queue the job and print its handle instead of waiting for the result.")
    var background = false

    @Flag(name: [.customShort("n"), .customLong("lines")], help: "One job per line of standard input.")
    var lines = false

    @Option(help: "With -n: jobs submitted and not yet answered, at most.")
    var maxInFlight = 64

    @Option(help: "high, normal or low.")
    var priority: PriorityArgument = .normal

    @Option(help: "The job's unique key: jobs with the same key run once.")
    var unique: String?

    @Option(help: "Give up after this many seconds.")
    var timeout: Double?

    @Argument(help: "The workload; standard input when absent.")
    var workload: String?

    func validate() throws {
        guard (1...100_000).contains(maxInFlight) else { throw ValidationError("--max-in-flight must be 1 to 100000") }
        if lines, workload != nil {
            throw ValidationError("-n reads its workloads from standard input: give no argument")
        }
        if lines, unique != nil { throw ValidationError("-n submits many jobs: --unique would make them one") }
    }

    func run() async throws {
        if lines {
            try await submitLines()
            return
        }
        let payload = workload.map { ByteBuffer(string: $0) } ?? StandardIO.readAllInput()
        let client = GearmanClient(
            servers: servers.servers, tls: try servers.tls.context(),
            logger: try logging.makeLogger(label: "gearbox.submit", level: .warning))
        let limit = timeout.map { Duration.milliseconds(Int64($0 * 1000)) }
        do {
            if background {
                let handle = try await client.submitBackground(
                    function, workload: payload, unique: unique, priority: priority.value, timeout: limit)
                StandardIO.write("\(handle.text)\n")
                await client.shutdown()
                return
            }
            let events = try await client.stream(
                function, workload: payload, unique: unique, priority: priority.value, timeout: limit)
            for try await event in events {
                switch event {
                case .data(let data), .complete(let data):
                    StandardIO.write(data)
                case .warning(let data):
                    StandardIO.write(data, to: 2)
                case .created, .status:
                    break
                }
            }
            await client.shutdown()
        } catch {
            await client.shutdown()
            StandardIO.error("gearbox submit: \(error)")
            throw ExitCode.failure
        }
    }
}

extension SubmitCommand {
    /// `-n`: a job per line, at most `maxInFlight` lines between the oldest one not yet printed and the
    /// newest read, results printed in input order by one loop.
    private func submitLines() async throws {
        let client = GearmanClient(
            servers: servers.servers, tls: try servers.tls.context(),
            logger: try logging.makeLogger(label: "gearbox.submit", level: .warning))
        let limit = timeout.map { Duration.milliseconds(Int64($0 * 1000)) }
        let reader = LineReader(window: maxInFlight)
        let (outcomes, finished) = AsyncStream<(number: Int, outcome: LineOutcome)>.makeStream()
        let (function, priority, background) = (self.function, self.priority.value, self.background)
        let failures = await withTaskGroup(of: Int.self) { group in
            group.addTask {
                var next = 1
                var waiting: [Int: LineOutcome] = [:]
                var failures = 0
                for await (number, outcome) in outcomes {
                    waiting[number] = outcome
                    while let outcome = waiting.removeValue(forKey: next) {
                        switch outcome {
                        case .result(let bytes): StandardIO.write(bytes)
                        case .queued: break
                        case .failed: failures += 1
                        }
                        next += 1
                        reader.finished()
                    }
                }
                return failures
            }
            group.addTask {
                await withDiscardingTaskGroup { jobs in
                    for await (number, line) in reader.lines {
                        jobs.addTask {
                            do {
                                if background {
                                    _ = try await client.submitBackground(
                                        function, workload: line, priority: priority, timeout: limit)
                                    finished.yield((number, .queued))
                                } else {
                                    var result = try await client.submit(
                                        function, workload: line, priority: priority, timeout: limit)
                                    result.writeString("\n")
                                    finished.yield((number, .result(result)))
                                }
                            } catch {
                                StandardIO.error("gearbox submit: line \(number): \(error)")
                                finished.yield((number, .failed))
                            }
                        }
                    }
                }
                finished.finish()
                return 0
            }
            return await group.reduce(0, +)
        }
        await client.shutdown()
        if failures > 0 {
            throw ExitCode.failure
        }
    }
}

/// What became of one line of `submit -n`.
private enum LineOutcome: Sendable {
    case result(ByteBuffer)
    case queued
    case failed
}

enum PriorityArgument: String, ExpressibleByArgument, CaseIterable {
    case high, normal, low

    var value: GearmanPriority {
        switch self {
        case .high: .high
        case .normal: .normal
        case .low: .low
        }
    }
}
