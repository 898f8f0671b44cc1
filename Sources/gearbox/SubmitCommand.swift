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
            """)

    @Option(name: [.customShort("f"), .long], help: "The function to run.")
    var function: String

    @OptionGroup var servers: ServerOptions

    @Flag(help: "Queue the job and print its handle instead of waiting for the result.")
    var background = false

    @Option(help: "high, normal or low.")
    var priority: PriorityArgument = .normal

    @Option(help: "The job's unique key: jobs with the same key run once.")
    var unique: String?

    @Option(help: "Give up after this many seconds.")
    var timeout: Double?

    @Argument(help: "The workload; standard input when absent.")
    var workload: String?

    func run() async throws {
        let payload = workload.map { ByteBuffer(string: $0) } ?? StandardIO.readAllInput()
        let client = GearmanClient(servers: servers.servers, tls: try servers.tls.context())
        let limit = timeout.map { Duration.milliseconds(Int64($0 * 1000)) }
        do {
            if background {
                let handle = try await client.submitBackground(
                    function, workload: payload, unique: unique, priority: priority.value, timeout: limit)
                StandardIO.write("\(handle.handle)\n")
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
