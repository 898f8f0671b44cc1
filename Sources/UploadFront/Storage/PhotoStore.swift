import Foundation
import Imaging
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Photos on disk: `<root>/<id>/original.<ext>` and `<root>/<id>/<size>[@2x].<ext>`, one file per format. Every file is written to a
/// temporary name and renamed into place, so a reader sees a whole file or none. Files never change once
/// written (ids are random), which is what lets `GET` answer with long-lived cache headers.
///
/// The file system calls block, so they run on a thread pool (NIO's shared one by default), never on Swift's
/// cooperative threads.
public struct PhotoStore: Sendable {
    public let root: URL
    private let threads: NIOThreadPool

    /// A stored file, as served.
    public struct StoredFile: Sendable {
        public var path: String
        public var format: ImageFormat?
        public var bytes: Int
        /// Size and modification time, in the style of nginx: cheap, and stable because files never change.
        public var etag: String
        public var lastModified: Date
    }

    public init(root: String, threads: NIOThreadPool = .singleton) throws {
        self.root = URL(fileURLWithPath: root, isDirectory: true)
        self.threads = threads
        try FileManager.default.createDirectory(at: self.root, withIntermediateDirectories: true)
    }

    /// 16 random bytes as 32 hex digits.
    public static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte, radix: 16).leftPadded(to: 2)
        }.joined()
    }

    /// Whether `text` could be an id or a file name such as `thumb@2x`: no path tricks reach the file system.
    public static func isSafeName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.utf8.allSatisfy { FrontConfiguration.isNameByte($0) || $0 == UInt8(ascii: "@") }
    }

    /// Every stored photo's id that holds an original, in no particular order.
    public func photoIDs() async throws -> [String] {
        try await onThreads { store in
            try FileManager.default.contentsOfDirectory(atPath: store.root.path).filter { id in
                Self.isSafeName(id) && !id.hasPrefix(".") && store.findNow(id: id, name: "original") != nil
            }
        }
    }

    /// The stored file `<id>/<name>.<ext>` in the first of `formats` that has one, or nil; one trip to the
    /// thread pool, however many formats are tried.
    public func find(id: String, name: String, formats: [ImageFormat]) async -> StoredFile? {
        guard Self.isSafeName(id), Self.isSafeName(name) else { return nil }
        let folder = root.appendingPathComponent(id, isDirectory: true)
        let found = try? await onThreads { store in
            formats.lazy.compactMap { format in
                store.stored(
                    path: folder.appendingPathComponent("\(name).\(format.fileExtension)").path, format: format)
            }.first
        }
        return found ?? nil
    }

    /// The names of the files stored for `id` (`thumb@2x.webp`, ...), none in the making; empty for an
    /// unknown id.
    public func fileNames(id: String) async -> Set<String> {
        guard Self.isSafeName(id) else { return [] }
        let folder = root.appendingPathComponent(id, isDirectory: true).path
        let names = try? await onThreads { _ in try FileManager.default.contentsOfDirectory(atPath: folder) }
        return Set((names ?? []).filter { !$0.hasPrefix(".") })
    }

    /// The whole file.
    public func read(_ file: StoredFile) async throws -> ByteBuffer {
        try await onThreads { _ in ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: file.path))) }
    }

    /// Writes `bytes` as `<id>/<name>.<ext>` atomically; returns its size in bytes.
    @discardableResult
    public func write(id: String, name: String, format: ImageFormat?, bytes: ByteBuffer) async throws -> Int {
        precondition(Self.isSafeName(id) && Self.isSafeName(name))
        return try await onThreads { store in try store.writeNow(id: id, name: name, format: format, bytes: bytes) }
    }

    private func writeNow(id: String, name: String, format: ImageFormat?, bytes: ByteBuffer) throws -> Int {
        let folder = root.appendingPathComponent(id, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let final = folder.appendingPathComponent("\(name).\(format?.fileExtension ?? "bin")")
        let temporary = folder.appendingPathComponent(".\(name).\(Self.newID()).tmp")
        try bytes.readableBytesView.withContiguousStorageIfAvailable { pointer in
            try Data(buffer: pointer).write(to: temporary)
        } ?? Data(bytes.readableBytesView).write(to: temporary)
        guard rename(temporary.path, final.path) == 0 else {
            let code = errno
            try? FileManager.default.removeItem(at: temporary)
            throw FrontError(.internalServerError, "cannot store \(id)/\(name): \(String(cString: strerror(code)))")
        }
        return bytes.readableBytes
    }

    /// Removes the photo and all its sizes.
    public func remove(id: String) async {
        guard Self.isSafeName(id) else { return }
        let folder = root.appendingPathComponent(id, isDirectory: true)
        _ = try? await onThreads { _ in try FileManager.default.removeItem(at: folder) }
    }

    /// The stored file for `id` and `name` in whichever format it has (the original), or nil.
    public func find(id: String, name: String) async -> StoredFile? {
        (try? await onThreads { store in store.findNow(id: id, name: name) }) ?? nil
    }

    private func findNow(id: String, name: String) -> StoredFile? {
        guard Self.isSafeName(id), Self.isSafeName(name) else { return nil }
        let folder = root.appendingPathComponent(id, isDirectory: true)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return nil }
        guard let file = entries.first(where: { $0.hasPrefix(name + ".") && !$0.hasSuffix(".tmp") }) else { return nil }
        let path = folder.appendingPathComponent(file).path
        return stored(path: path, format: ImageFormat(name: String(file.dropFirst(name.count + 1))))
    }

    private func onThreads<T: Sendable>(_ body: @escaping @Sendable (PhotoStore) throws -> T) async throws -> T {
        let store = self
        return try await threads.runIfActive { try body(store) }
    }

    /// Reads the file's size and modification time; nil when it does not exist.
    private func stored(path: String, format: ImageFormat?) -> StoredFile? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        #if canImport(Darwin)
        let seconds = info.st_mtimespec.tv_sec
        let nanoseconds = info.st_mtimespec.tv_nsec
        #else
        let seconds = info.st_mtim.tv_sec
        let nanoseconds = info.st_mtim.tv_nsec
        #endif
        let size = Int(info.st_size)
        let etag =
            "\"\(String(size, radix: 16))-\(String(Int(seconds) * 1_000_000_000 + Int(nanoseconds), radix: 16))\""
        return StoredFile(
            path: path, format: format, bytes: size, etag: etag,
            lastModified: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}

extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
