import NIOCore

/// A reply of the admin text protocol, rendered byte for byte as gearmand 1.1.20 renders it.
public struct GearmanAdminReply: Sendable, Hashable {
    public var text: String

    public init(text: String) {
        self.text = text
    }

    /// `OK\r\n`, the reply to commands that change something.
    public static let ok = Self(text: "OK\r\n")

    /// `OK value\n`, as `getpid`, `version` and `verbose` answer.
    public static func ok(_ value: String) -> Self { Self(text: "OK \(value)\n") }

    /// `ERR CODE\r\n` or `ERR CODE text\r\n`.
    public static func error(_ code: String, _ text: String? = nil) -> Self {
        Self(text: text.map { "ERR \(code) \($0)\r\n" } ?? "ERR \(code)\r\n")
    }

    public static let unknownError = error("UNKNOWN_ERROR")
    public static let unknownJob = error("UNKNOWN_JOB")

    public static func unknownCommand(_ command: String) -> Self {
        error("UNKNOWN_COMMAND", "Unknown+server+command\(command)")
    }

    public static func invalidArguments(_ command: String) -> Self {
        error("INVALID_ARGUMENTS", "An+incomplete+set+of+arguments+was+sent+to+this+command+\(command)")
    }

    /// The reply to `show store`: one `name<TAB>value` line each for the store, the operations accepted and
    /// not yet written, the transactions committed, and the last failure (`-` when writes succeed).
    public static func storeStatus(location: String, unwritten: Int, transactions: Int, failure: String?) -> Self {
        let failure = failure.map { $0.replacingTabsAndNewlines() } ?? "-"
        return table([
            "store\t\(location)", "unwritten\t\(unwritten)", "transactions\t\(transactions)", "failure\t\(failure)",
        ])
    }

    /// `show servers` on a server whose store no other server shares.
    public static let notInStoreGroup = error("NOT_IN_GROUP", "this+server+shares+no+store")

    /// `show servers`: a line per server of the group, `NAME STATE LEASE_MS QUEUED`, tab-separated. STATE is
    /// `self`, `live` or `expired`; LEASE_MS the milliseconds until the lease expires (negative once it
    /// has); QUEUED the jobs stored under the server's name, or `-` when not yet counted.
    public static func storeGroup(_ servers: [(name: String, state: String, leaseMilliseconds: Int64, queued: Int?)])
        -> Self
    {
        table(
            servers.map {
                "\($0.name.replacingTabsAndNewlines())\t\($0.state)\t\($0.leaseMilliseconds)\t\($0.queued.map(String.init) ?? "-")"
            })
    }

    /// Lines of tab-separated fields, closed by a line holding a single dot.
    public static func table(_ rows: [String]) -> Self {
        var text = ""
        for row in rows {
            text += row
            text += "\n"
        }
        return Self(text: text + ".\n")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeString(text)
    }
}

extension String {
    fileprivate func replacingTabsAndNewlines() -> String {
        String(map { $0 == "\t" || $0.isNewline ? " " : $0 })
    }
}
