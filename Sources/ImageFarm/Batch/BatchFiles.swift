import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blocking file reads and writes for the batch, run on a thread pool.
enum BatchFiles {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private static func failure(_ what: String) -> Failure {
        Failure(description: "\(what): \(String(cString: strerror(errno)))")
    }

    /// The whole file, straight into a buffer; refuses files over `limit` bytes before reading them.
    static func readFile(_ path: String, limit: Int) throws -> ByteBuffer {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("cannot stat") }
        let size = Int(info.st_size)
        if size > limit {
            throw Failure(description: "too large: \(size) bytes exceeds \(limit) bytes")
        }
        var buffer = ByteBufferAllocator().buffer(capacity: size + 1)
        while true {
            var failed = false
            let count = buffer.writeWithUnsafeMutableBytes(
                minimumWritableBytes: max(1, size + 1 - buffer.readableBytes)
            ) {
                pointer in
                while true {
                    let n = read(fd, pointer.baseAddress, pointer.count)
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 {
                        failed = true
                        return 0
                    }
                    return n
                }
            }
            if failed { throw failure("cannot read") }
            if count == 0 { return buffer }
            if buffer.readableBytes > limit {
                throw Failure(description: "too large: more than \(limit) bytes")
            }
        }
    }

    /// Writes `bytes` to a hidden temporary name beside `path`, then renames it into place: a reader (or an
    /// interrupted run) never sees half a file. Missing folders are created.
    static func writeAtomically(_ bytes: ByteBuffer, to path: String) throws {
        let folder = folderOf(path)
        if !folder.isEmpty { try makeFolders(folder) }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let temporary = (folder.isEmpty ? "" : folder + "/") + ".\(name).part-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("cannot create \(temporary)") }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do {
            try bytes.withUnsafeReadableBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw failure("cannot write \(path)")
                    }
                    offset += n
                }
            }
            closed = true
            guard close(fd) == 0 else { throw failure("cannot write \(path)") }
            guard rename(temporary, path) == 0 else { throw failure("cannot rename to \(path)") }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    static func folderOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// `mkdir -p`.
    static func makeFolders(_ folder: String) throws {
        if BatchPlan.isDirectory(folder) { return }
        let parent = folderOf(folder)
        if !parent.isEmpty && parent != folder { try makeFolders(parent) }
        if mkdir(folder, 0o755) != 0 && errno != EEXIST {
            throw failure("cannot create folder \(folder)")
        }
    }
}
