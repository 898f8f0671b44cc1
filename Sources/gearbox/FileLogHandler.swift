import Foundation
import Logging

/// Appends one line per log message to a file, in the format swift-log's `StreamLogHandler` uses.
struct FileLogHandler: LogHandler {
    final class File: @unchecked Sendable {
        private let handle: FileHandle
        private let lock = NSLock()

        init(handle: FileHandle) {
            self.handle = handle
        }

        func append(_ line: String) {
            lock.lock()
            defer { lock.unlock() }
            handle.write(Data(line.utf8))
        }
    }

    static func open(path: String) throws -> File {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
            }
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        return File(handle: handle)
    }

    let label: String
    let file: File
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String, file: File) {
        self.label = label
        self.file = file
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let details = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " ")
        let timestamp = ISO8601DateFormatter().string(from: Date())
        file.append("\(timestamp) \(event.level) \(label):\(details) \(event.message)\n")
    }
}
