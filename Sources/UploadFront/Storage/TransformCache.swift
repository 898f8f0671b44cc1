import Foundation
import Imaging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The results of `/photos/ID/image` on disk, within a byte budget: `<storage>/.transforms/ab/abcdef….ext`,
/// named by the request's key (64 hex digits), written to a temporary name and renamed into place as
/// `PhotoStore` does. The least recently used go first when a new one does not fit. The index lives in
/// memory, rebuilt at start from the files' modification times, which a use moves forward so that the
/// order survives a restart.
///
/// The index is behind a lock; the file system calls run on a thread pool, never under the lock.
public final class TransformCache: Sendable {
    public let folder: URL
    private let threads: NIOThreadPool
    private let index: NIOLockedValueBox<TransformCacheIndex>

    /// A result read back.
    public struct Hit: Sendable {
        public var bytes: ByteBuffer
        public var format: ImageFormat
    }

    private init(folder: URL, threads: NIOThreadPool, index: TransformCacheIndex) {
        self.folder = folder
        self.threads = threads
        self.index = NIOLockedValueBox(index)
    }

    /// Opens the cache under `storage`, scanning what an earlier run left (and removing its temporary files and
    /// whatever is over `budget`).
    public static func open(storage: String, budget: Int, threads: NIOThreadPool = .singleton) async throws
        -> TransformCache
    {
        let folder = URL(fileURLWithPath: storage, isDirectory: true).appendingPathComponent(
            ".transforms", isDirectory: true)
        let index = try await threads.runIfActive { Self.scan(folder, budget: budget) }
        return TransformCache(folder: folder, threads: threads, index: index)
    }

    /// Bytes held now.
    public var totalBytes: Int { index.withLockedValue { $0.totalBytes } }

    /// Results held now.
    public var count: Int { index.withLockedValue { $0.count } }

    /// The result for `key`, marked as used; nil when there is none (or its file went missing).
    public func read(_ key: String) async -> Hit? {
        guard Self.isKey(key), let entry = index.withLockedValue({ $0.use(key) }),
            let format = ImageFormat(name: entry.fileExtension)
        else { return nil }
        let path = file(key, fileExtension: entry.fileExtension).path
        let bytes = try? await threads.runIfActive { () -> ByteBuffer in
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            // The use, for the order rebuilt at the next start.
            utimes(path, nil)
            return ByteBuffer(bytes: data)
        }
        guard let bytes else {
            index.withLockedValue { _ = $0.remove(key) }
            return nil
        }
        return Hit(bytes: bytes, format: format)
    }

    /// Keeps `bytes` as the result for `key`, then removes the least recently used results that no longer fit.
    public func write(_ key: String, format: ImageFormat, bytes: ByteBuffer) async throws {
        precondition(Self.isKey(key), "a transform key is 64 hex digits")
        let budget = index.withLockedValue { $0.budget }
        guard bytes.readableBytes <= budget else { return }
        let final = file(key, fileExtension: format.fileExtension)
        try await threads.runIfActive {
            try FileManager.default.createDirectory(
                at: final.deletingLastPathComponent(), withIntermediateDirectories: true)
            let temporary = final.deletingLastPathComponent().appendingPathComponent(
                ".\(key).\(PhotoStore.newID()).tmp")
            try Data(bytes.readableBytesView).write(to: temporary)
            guard rename(temporary.path, final.path) == 0 else {
                let code = errno
                try? FileManager.default.removeItem(at: temporary)
                throw FrontError(
                    .internalServerError, "cannot store a transform: \(String(cString: strerror(code)))")
            }
        }
        let evicted = index.withLockedValue {
            $0.insert(key, bytes: bytes.readableBytes, fileExtension: format.fileExtension)
        }
        guard !evicted.isEmpty else { return }
        let paths = evicted.map { file($0.key, fileExtension: $0.fileExtension).path }
        _ = try? await threads.runIfActive {
            for path in paths { unlink(path) }
        }
    }

    /// `<folder>/ab/abcdef….ext`.
    func file(_ key: String, fileExtension: String) -> URL {
        Self.file(in: folder, key, fileExtension: fileExtension)
    }

    private static func file(in folder: URL, _ key: String, fileExtension: String) -> URL {
        folder.appendingPathComponent(String(key.prefix(2)), isDirectory: true)
            .appendingPathComponent("\(key).\(fileExtension)")
    }

    /// 64 lower-case hex digits: nothing else names a file here.
    static func isKey(_ text: String) -> Bool {
        text.utf8.count == 64
            && text.utf8.allSatisfy {
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
            }
    }

    /// The index of the files in `folder` (made at the first write), oldest modification first; leftovers of
    /// interrupted writes and files over the budget are removed.
    private static func scan(_ folder: URL, budget: Int) -> TransformCacheIndex {
        var found: [(key: String, fileExtension: String, bytes: Int, modified: Int)] = []
        let shards = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for shard in shards {
            let shardPath = folder.appendingPathComponent(shard).path
            for name in (try? FileManager.default.contentsOfDirectory(atPath: shardPath)) ?? [] {
                let path = shardPath + "/" + name
                if name.hasPrefix(".") && name.hasSuffix(".tmp") {
                    unlink(path)
                    continue
                }
                let parts = name.split(separator: ".", maxSplits: 1)
                var info = stat()
                guard parts.count == 2, isKey(String(parts[0])), stat(path, &info) == 0 else { continue }
                #if canImport(Darwin)
                let modified = Int(info.st_mtimespec.tv_sec) * 1_000_000_000 + Int(info.st_mtimespec.tv_nsec)
                #else
                let modified = Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec)
                #endif
                found.append((String(parts[0]), String(parts[1]), Int(info.st_size), modified))
            }
        }
        var index = TransformCacheIndex(budget: budget)
        for result in found.sorted(by: { $0.modified < $1.modified }) {
            for evicted in index.insert(result.key, bytes: result.bytes, fileExtension: result.fileExtension) {
                unlink(file(in: folder, evicted.key, fileExtension: evicted.fileExtension).path)
            }
        }
        return index
    }
}
