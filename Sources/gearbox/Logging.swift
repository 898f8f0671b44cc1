import Foundation
import Logging

enum Logging {
    /// A logger at `level` writing to standard error, or appending to `file` when one is given.
    static func makeLogger(label: String, level: Logger.Level, file: String? = nil) throws -> Logger {
        var logger: Logger
        if let file {
            let handle = try FileLogHandler.open(path: file)
            logger = Logger(label: label) { label in FileLogHandler(label: label, file: handle) }
        } else {
            logger = Logger(label: label) { label in StreamLogHandler.standardError(label: label) }
        }
        logger.logLevel = level
        return logger
    }
}
