import NIOCore

/// One line of the admin text protocol, parsed as gearmand 1.1.20 parses it: words split on spaces,
/// command names case-insensitive.
public enum GearmanAdminCommand: Sendable, Hashable {
    case status
    case workers
    case priorityStatus
    case showJobs
    case showUniqueJobs
    /// Gearbox's own: where background jobs are stored and whether the store keeps up.
    case showStore
    /// Gearbox's own: the servers that share this server's store, and their leases.
    case showServers
    /// Gearbox's own: each cached function's results, hits, misses and evictions.
    case cache
    /// Gearbox's own: the dead letters (background jobs whose last attempt failed), of one function or all.
    case deadLetters(function: String?)
    /// Gearbox's own: queues one function's dead letters again, or the one with this handle.
    case retryDead(function: String, handle: String?)
    /// Gearbox's own: removes one function's dead letters, or the one with this handle.
    case purgeDead(function: String, handle: String?)
    case cancelJob(handle: String)
    /// Queue limits for HIGH, NORMAL and LOW; 0 means unlimited.
    case maxQueue(function: String, limits: [GearmanPriority: Int])
    case createFunction(String)
    case dropFunction(String)
    case getPID
    case version
    case verbose
    case shutdown(graceful: Bool)
    /// A line that gearmand answers with an error; the reply is given.
    case invalid(GearmanAdminReply)

    public init(line: ByteBuffer) {
        self.init(line: String(buffer: line))
    }

    public init(line: String) {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let first = words.first else {
            self = .invalid(.unknownCommand(""))
            return
        }
        func word(_ index: Int, is expected: String) -> Bool {
            words.count > index && words[index].lowercased() == expected
        }
        switch first.lowercased() {
        case "status":
            self = .status
        case "workers":
            self = .workers
        case "prioritystatus":
            self = .priorityStatus
        case "cache":
            self = words.count == 1 ? .cache : .invalid(.invalidArguments(first))
        case "dead":
            self =
                words.count <= 2
                ? .deadLetters(function: words.count == 2 ? words[1] : nil) : .invalid(.invalidArguments(first))
        case "retry", "purge":
            guard (3...4).contains(words.count), word(1, is: "dead") else {
                self = .invalid(.invalidArguments(first))
                return
            }
            let handle = words.count == 4 ? words[3] : nil
            self =
                first.lowercased() == "retry"
                ? .retryDead(function: words[2], handle: handle) : .purgeDead(function: words[2], handle: handle)
        case "cancel" where words.count >= 3:
            if words.count == 3, word(1, is: "job") {
                self = .cancelJob(handle: words[2])
            } else {
                self = .invalid(.unknownError)
            }
        case "show" where words.count >= 2:
            if words.count == 3, word(1, is: "unique"), word(2, is: "jobs") {
                self = .showUniqueJobs
            } else if words.count == 2, word(1, is: "jobs") {
                self = .showJobs
            } else if words.count == 2, word(1, is: "store") {
                self = .showStore
            } else if words.count == 2, word(1, is: "servers") {
                self = .showServers
            } else {
                self = .invalid(.error("UNKNOWN_SHOW_ARGUMENTS"))
            }
        case "create":
            self =
                words.count == 3 && word(1, is: "function")
                ? .createFunction(words[2]) : .invalid(.invalidArguments(first))
        case "drop":
            self =
                words.count == 3 && word(1, is: "function")
                ? .dropFunction(words[2]) : .invalid(.invalidArguments(first))
        case "maxqueue":
            guard words.count >= 2 else {
                self = .invalid(.invalidArguments(first))
                return
            }
            var limits: [GearmanPriority: Int] = [:]
            for priority in GearmanPriority.allCases {
                let index = priority.rawValue + 2
                limits[priority] = index < words.count ? max(0, Self.atoi(words[index])) : 0
            }
            if words.count <= 3 {
                limits[.normal] = limits[.high]
                limits[.low] = limits[.high]
            }
            self = .maxQueue(function: words[1], limits: limits)
        case "getpid":
            self = .getPID
        case "version":
            self = .version
        case "verbose":
            self = .verbose
        case "shutdown":
            if words.count == 1 {
                self = .shutdown(graceful: false)
            } else if words.count == 2, word(1, is: "graceful") {
                self = .shutdown(graceful: true)
            } else {
                self = .invalid(.invalidArguments(first))
            }
        default:
            self = .invalid(.unknownCommand(first))
        }
    }

    /// C's `atoi`: leading digits with an optional sign, 0 when there are none.
    private static func atoi(_ text: String) -> Int {
        var digits = Substring(text)
        var sign = 1
        if let first = digits.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            digits = digits.dropFirst()
        }
        let prefix = digits.prefix { $0.isASCII && $0.isNumber }
        return sign * (Int(prefix.prefix(18)) ?? 0)
    }
}

extension GearmanAdminCommand {
    /// Whether the command changes the server's state rather than only reading it.
    public var changesState: Bool {
        switch self {
        case .cancelJob, .maxQueue, .createFunction, .dropFunction, .shutdown, .retryDead, .purgeDead: true
        case .status, .workers, .priorityStatus, .showJobs, .showUniqueJobs, .showStore, .showServers, .cache,
            .deadLetters,
            .getPID, .version, .verbose, .invalid:
            false
        }
    }

    /// The command's name as typed, for messages.
    public var name: String {
        switch self {
        case .status: "status"
        case .workers: "workers"
        case .priorityStatus: "prioritystatus"
        case .showJobs: "show jobs"
        case .showUniqueJobs: "show unique jobs"
        case .showStore: "show store"
        case .showServers: "show servers"
        case .cache: "cache"
        case .deadLetters: "dead"
        case .retryDead: "retry dead"
        case .purgeDead: "purge dead"
        case .cancelJob: "cancel job"
        case .maxQueue: "maxqueue"
        case .createFunction: "create function"
        case .dropFunction: "drop function"
        case .getPID: "getpid"
        case .version: "version"
        case .verbose: "verbose"
        case .shutdown: "shutdown"
        case .invalid: "invalid"
        }
    }
}
