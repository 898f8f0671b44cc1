#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time, context switches and resident memory of a process, read from Linux's /proc.
public struct ProcessSample: Sendable, Hashable {
    /// User plus system time, in clock ticks.
    public var cpuTicks: UInt64
    /// The part of `cpuTicks` spent in the kernel on the process's behalf.
    public var systemTicks: UInt64
    /// Voluntary and involuntary context switches of all its threads; nil when they could not be read.
    public var contextSwitches: UInt64?
    public var rssBytes: Int

    public init(cpuTicks: UInt64, systemTicks: UInt64 = 0, contextSwitches: UInt64? = nil, rssBytes: Int) {
        self.cpuTicks = cpuTicks
        self.systemTicks = systemTicks
        self.contextSwitches = contextSwitches
        self.rssBytes = rssBytes
    }

    /// Nil when /proc has no such process (or there is no /proc).
    public static func read(pid: Int32) -> ProcessSample? {
        guard let stat = readFile("/proc/\(pid)/stat"), let status = readFile("/proc/\(pid)/status"),
            let times = times(stat: stat), let rss = rssBytes(status: status)
        else { return nil }
        return ProcessSample(
            cpuTicks: times.user + times.system, systemTicks: times.system,
            contextSwitches: threadContextSwitches(pid: pid), rssBytes: rss)
    }

    /// VmRSS of a process, in bytes; nil when /proc has no such process.
    public static func residentBytes(pid: Int32) -> Int? {
        readFile("/proc/\(pid)/status").flatMap(rssBytes(status:))
    }

    /// utime + stime from a /proc/<pid>/stat line. The command name may hold spaces and parentheses, so the
    /// fields are counted from its last `)`.
    public static func cpuTicks(stat: String) -> UInt64? {
        times(stat: stat).map { $0.user + $0.system }
    }

    /// utime and stime from a /proc/<pid>/stat line.
    public static func times(stat: String) -> (user: UInt64, system: UInt64)? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the name: state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15).
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return (user, system)
    }

    /// voluntary_ctxt_switches plus nonvoluntary_ctxt_switches from a /proc/<pid>/status (or a thread's
    /// /proc/<pid>/task/<tid>/status).
    public static func contextSwitches(status: String) -> UInt64? {
        var total: UInt64 = 0
        var found = 0
        for line in status.split(separator: "\n")
        where line.hasPrefix("voluntary_ctxt_switches:") || line.hasPrefix("nonvoluntary_ctxt_switches:") {
            let field = line.split(separator: ":", maxSplits: 1).last.map { $0.filter { !$0.isWhitespace } }
            guard let field, let value = UInt64(field) else { return nil }
            total += value
            found += 1
        }
        return found == 2 ? total : nil
    }

    /// The sum over the process's threads: a process's own status counts its main thread only.
    private static func threadContextSwitches(pid: Int32) -> UInt64? {
        guard let directory = opendir("/proc/\(pid)/task") else { return nil }
        defer { closedir(directory) }
        var total: UInt64 = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let thread = Int32(name) else { continue }  // "." and ".."
            // A thread that ended since the listing has no status any more; it no longer counts.
            if let status = readFile("/proc/\(pid)/task/\(thread)/status"),
                let switches = contextSwitches(status: status)
            {
                total += switches
            }
        }
        return total
    }

    /// VmRSS from /proc/<pid>/status, in bytes.
    public static func rssBytes(status: String) -> Int? {
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count >= 2, let kilobytes = Int(words[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }

    public static var ticksPerSecond: Double {
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        return ticks > 0 ? Double(ticks) : 100
    }

    private static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
