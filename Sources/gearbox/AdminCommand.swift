import ArgumentParser
import Gearman

struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Ask job servers about their queues and workers, like gearadmin.",
        discussion: """
            Commands: status, workers, prioritystatus, version, getpid, show-jobs, show-unique-jobs, cancel HANDLE, \
            maxqueue FUNCTION [LIMIT | HIGH NORMAL LOW], create-function FUNCTION, drop-function FUNCTION, verbose, \
            cache (Gearbox's own: each cached function's results), dead [FUNCTION], retry-dead FUNCTION [HANDLE], \
            purge-dead FUNCTION [HANDLE] (Gearbox's own: background jobs whose last attempt failed).
            """)

    @Argument(help: "The command and its arguments.")
    var words: [String]

    @OptionGroup var servers: ServerOptions

    @Flag(help: "Print the server's reply exactly as sent.")
    var raw = false

    func validate() throws {
        _ = try line
    }

    var line: String {
        get throws {
            guard let first = words.first else { throw ValidationError("name a command, e.g. status") }
            let rest = words.dropFirst()
            func need(_ range: ClosedRange<Int>) throws {
                guard range.contains(rest.count) else {
                    throw ValidationError(
                        "\(first) takes \(range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)") arguments"
                    )
                }
            }
            switch first.lowercased() {
            case "status", "workers", "prioritystatus", "version", "getpid", "verbose", "cache":
                try need(0...0)
                return first.lowercased()
            case "show-jobs":
                try need(0...0)
                return "show jobs"
            case "show-unique-jobs":
                try need(0...0)
                return "show unique jobs"
            case "cancel", "cancel-job":
                try need(1...1)
                return "cancel job \(rest.first!)"
            case "maxqueue":
                try need(1...4)
                return (["maxqueue"] + rest).joined(separator: " ")
            case "create-function", "drop-function":
                try need(1...1)
                return "\(first.lowercased().replacingDash) \(rest.first!)"
            case "dead":
                try need(0...1)
                return (["dead"] + rest).joined(separator: " ")
            case "retry-dead", "purge-dead":
                try need(1...2)
                return ([first.lowercased().replacingDash] + rest).joined(separator: " ")
            default:
                throw ValidationError("unknown admin command \(first)")
            }
        }
    }

    func run() async throws {
        let command = try line
        var failed = false
        let tls = try servers.tls.context()
        for server in servers.servers {
            if servers.servers.count > 1 && !raw {
                StandardIO.write("# \(server)\n")
            }
            do {
                let reply = try await GearmanAdminClient(server: server, tls: tls).send(command)
                if reply.hasPrefix("ERR") { failed = true }
                if raw {
                    StandardIO.write(reply)
                } else if reply.hasPrefix("ERR") {
                    StandardIO.error("\(server): \(reply.trimmingWhitespace)")
                } else {
                    StandardIO.write(AdminTable.render(command: command, reply: reply))
                }
            } catch {
                StandardIO.error("gearbox admin: \(server): \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode.failure }
    }
}

/// Renders the admin protocol's tab-separated tables as aligned columns with a header.
enum AdminTable {
    static func render(command: String, reply: String) -> String {
        // "\r\n", which gearmand ends some replies with, is one Character: split on newlines, not on "\n".
        var lines = reply.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        while let last = lines.last, last.isEmpty || last == "." { lines.removeLast() }
        let header: [String]
        var rows: [[String]]
        switch command {
        case "status":
            header = ["FUNCTION", "TOTAL", "RUNNING", "WORKERS"]
            rows = lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        case "prioritystatus":
            header = ["FUNCTION", "HIGH", "NORMAL", "LOW", "WORKERS"]
            rows = lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        case "show jobs":
            header = ["HANDLE", "RETRIES", "IGNORED", "PERSISTED"]
            rows = lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        case "cache":
            header = ["FUNCTION", "ENTRIES", "BYTES", "HITS", "MISSES", "EVICTIONS", "TTL_SECONDS"]
            rows = lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        case let dead where dead.hasPrefix("dead"):
            header = ["HANDLE", "FUNCTION", "ATTEMPTS", "UNIQUE", "LAST_ERROR"]
            rows = lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        case "show unique jobs":
            header = ["UNIQUE"]
            rows = lines.map { [$0] }
        case "workers":
            header = ["FD", "ADDRESS", "CLIENT-ID", "FUNCTIONS"]
            rows = lines.map { line in
                let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                var fields = parts[0].split(separator: " ").map(String.init)
                while fields.count < 3 { fields.append("-") }
                let functions = parts.count > 1 ? parts[1].split(separator: " ").joined(separator: ",") : ""
                return Array(fields.prefix(3)) + [functions]
            }
        default:
            return lines.joined(separator: "\n") + "\n"
        }
        let table = [header] + rows
        let columns = table.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: columns)
        for row in table {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        var text = ""
        for row in table {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }
            text += cells.joined(separator: "  ") + "\n"
        }
        return text
    }
}

extension String {
    var replacingDash: String { split(separator: "-").joined(separator: " ") }
}
