import Imaging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and writes with POSIX calls, straight into and out of byte arrays.
enum FileBytes {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func readFile(_ path: String, limit: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(description: String(cString: strerror(errno))) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw Failure(description: "is a directory") }
        let size = Int(info.st_size)
        if size > limit { throw ImagingError.tooManyBytes(bytes: size, limit: limit) }
        return try readAll(fd, expected: size)
    }

    /// The size of a file, for ordering work; stdin counts as largest, unreadable as 0.
    static func size(of path: String) -> Int {
        if path == "-" { return Int.max }
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    static func readStandardInput() throws -> [UInt8] {
        try readAll(STDIN_FILENO, expected: 0)
    }

    /// Reads to the end of `fd`; `expected` bytes (the file's size) go straight into place.
    private static func readAll(_ fd: Int32, expected: Int) throws -> [UInt8] {
        var bytes = [UInt8]()
        var capacity = max(expected, 64 * 1024)
        while true {
            let start = bytes.count
            var failure: Int32 = 0
            let target = capacity
            let filled = try [UInt8](unsafeUninitializedCapacity: target - start) { buffer, count in
                count = 0
                while count < buffer.count {
                    let n = read(fd, buffer.baseAddress! + count, buffer.count - count)
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        break
                    }
                    if n == 0 { break }
                    count += n
                }
                if failure != 0 { throw Failure(description: String(cString: strerror(failure))) }
            }
            if start == 0 { bytes = filled } else { bytes += filled }
            if bytes.count < capacity { return bytes }
            // Full: probe for more (stdin, or a file that grew) before growing.
            var probe: UInt8 = 0
            let n = read(fd, &probe, 1)
            if n == 0 { return bytes }
            if n < 0 && errno != EINTR { throw Failure(description: String(cString: strerror(errno))) }
            if n == 1 { bytes.append(probe) }
            capacity = bytes.count * 2
        }
    }

    static func writeFile(_ bytes: [UInt8], to path: String) throws {
        let folder = PathText.folder(path)
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(description: "\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try writeAll(bytes, to: fd)
    }

    static func writeStandardOutput(_ bytes: [UInt8]) throws {
        try writeAll(bytes, to: STDOUT_FILENO)
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: String(cString: strerror(errno)))
            }
            offset += n
        }
    }

    /// Whether `path` names the existing file `existing` (through links and `..`).
    static func samePath(_ path: String, _ existing: String) -> Bool {
        var a = stat()
        var b = stat()
        guard stat(path, &a) == 0, stat(existing, &b) == 0 else { return false }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }

    static func printError(_ line: String) {
        // One write per line, so lines from concurrent files do not interleave.
        try? writeAll(Array((line + "\n").utf8), to: STDERR_FILENO)
    }
}
