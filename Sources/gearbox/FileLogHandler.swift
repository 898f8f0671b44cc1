import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Appends one line per log message to a file, in the format swift-log's `StreamLogHandler` uses.
struct FileLogHandler: LogHandler {
    /// A log file opened for appending: each line is one write(2) to an O_APPEND descriptor, which the
    /// kernel keeps whole and in order between threads, so no lock is needed.
    final class File: Sendable {
        private let descriptor: Int32

        init(descriptor: Int32) {
            self.descriptor = descriptor
        }

        deinit {
            close(descriptor)
        }

        func append(_ line: String) {
            var line = line
            line.withUTF8 { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    guard written > 0 else { return }
                    offset += written
                }
            }
        }
    }

    static func open(path: String) throws -> File {
        let descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        return File(descriptor: descriptor)
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
        let details =
            merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " ")
        let timestamp = ISO8601DateFormatter().string(from: Date())
        file.append("\(timestamp) \(event.level) \(label):\(details) \(event.message)\n")
    }
}
