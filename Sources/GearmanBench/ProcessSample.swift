#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time and resident memory of a process, read from Linux's /proc.
public struct ProcessSample: Sendable, Hashable {
    /// User plus system time, in clock ticks.
    public var cpuTicks: UInt64
    public var rssBytes: Int

    public init(cpuTicks: UInt64, rssBytes: Int) {
        self.cpuTicks = cpuTicks
        self.rssBytes = rssBytes
    }

    /// Nil when /proc has no such process (or there is no /proc).
    public static func read(pid: Int32) -> ProcessSample? {
        guard let stat = readFile("/proc/\(pid)/stat"), let status = readFile("/proc/\(pid)/status"),
            let ticks = cpuTicks(stat: stat), let rss = rssBytes(status: status)
        else { return nil }
        return ProcessSample(cpuTicks: ticks, rssBytes: rss)
    }

    /// VmRSS of a process, in bytes; nil when /proc has no such process.
    public static func residentBytes(pid: Int32) -> Int? {
        readFile("/proc/\(pid)/status").flatMap(rssBytes(status:))
    }

    /// utime + stime from a /proc/<pid>/stat line. The command name may hold spaces and parentheses, so the
    /// fields are counted from its last `)`.
    public static func cpuTicks(stat: String) -> UInt64? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the name: state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15).
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return user + system
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
