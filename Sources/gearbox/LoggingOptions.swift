import ArgumentParser
import Logging

/// The logging flags every command that logs takes, and the one place its logger is made: `--log-level`
/// and `--log-file`. Each command passes its logger down to the libraries it uses, so one flag governs
/// every line the process writes.
struct LoggingOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    var logLevel: Logger.Level?

    @Option(
        help: ArgumentHelp("Append the log to this file instead of writing it to standard error.", valueName: "path"))
    var logFile: String?

    /// A logger at `--log-level` (else `level`), writing to standard error or appending to `--log-file`.
    func makeLogger(label: String, level: Logger.Level) throws -> Logger {
        var logger: Logger
        if let logFile {
            let handle = try FileLogHandler.open(path: logFile)
            logger = Logger(label: label) { label in FileLogHandler(label: label, file: handle) }
        } else {
            logger = Logger(label: label) { label in StreamLogHandler.standardError(label: label) }
        }
        logger.logLevel = logLevel ?? level
        return logger
    }
}
