/// Why a job, a status query or a connection failed.
///
/// Tell failures apart by ``code``, whose values are stable across versions (new ones may be added, so a
/// `switch` over them keeps a `default`); the other properties say what the code's failure was about.
public struct GearmanError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure, as a stable name (``rawValue``, such as `CONNECTION_LOST`).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String

        private init(_ rawValue: String) {
            self.rawValue = rawValue
        }

        /// The worker sent WORK_FAIL, or the job was cancelled on the server.
        public static let workFailed = Code("WORK_FAILED")
        /// The worker sent WORK_EXCEPTION; ``GearmanError/message`` is its text.
        public static let workException = Code("WORK_EXCEPTION")
        /// The server answered with an ERROR packet; ``GearmanError/serverCode`` is its code.
        public static let serverError = Code("SERVER_ERROR")
        /// The connection to ``GearmanError/server`` closed before the answer arrived.
        public static let connectionLost = Code("CONNECTION_LOST")
        /// No answer within the timeout given.
        public static let timeout = Code("TIMEOUT")
        /// Every server is down or refused the connection.
        public static let noServerAvailable = Code("NO_SERVER_AVAILABLE")
        /// The server sent something this library cannot read.
        public static let protocolViolation = Code("PROTOCOL_VIOLATION")
        /// The client or worker has been shut down.
        public static let shutDown = Code("SHUT_DOWN")

        public var description: String { rawValue }
    }

    public var code: Code
    /// The WORK_EXCEPTION text, the ERROR packet's message, or what went wrong; empty when the code says it all.
    public var message: String
    /// The job's handle, for ``Code/workFailed`` and ``Code/workException``.
    public var jobHandle: String?
    /// The ERROR packet's code, such as `QUEUE_ERROR`, for ``Code/serverError``.
    public var serverCode: String?
    /// The server whose connection was lost, for ``Code/connectionLost``.
    public var server: GearmanServerAddress?

    public init(
        code: Code, message: String = "", jobHandle: String? = nil, serverCode: String? = nil,
        server: GearmanServerAddress? = nil
    ) {
        self.code = code
        self.message = message
        self.jobHandle = jobHandle
        self.serverCode = serverCode
        self.server = server
    }

    public static func workFailed(handle: String) -> GearmanError {
        GearmanError(code: .workFailed, jobHandle: handle)
    }

    public static func workException(handle: String, message: String) -> GearmanError {
        GearmanError(code: .workException, message: message, jobHandle: handle)
    }

    public static func serverError(code: String, message: String) -> GearmanError {
        GearmanError(code: .serverError, message: message, serverCode: code)
    }

    public static func connectionLost(server: GearmanServerAddress) -> GearmanError {
        GearmanError(code: .connectionLost, server: server)
    }

    public static let timeout = GearmanError(code: .timeout)

    public static func noServerAvailable(reason: String) -> GearmanError {
        GearmanError(code: .noServerAvailable, message: reason)
    }

    public static func protocolViolation(_ text: String) -> GearmanError {
        GearmanError(code: .protocolViolation, message: text)
    }

    public static let shutDown = GearmanError(code: .shutDown)

    /// For ``Code/workException``: the code a worker put before its text (`TOO_MANY_PIXELS: too large: ...`),
    /// as workers that throw a ``GearmanCodedError`` do; nil when the text starts with none.
    public var exceptionCode: String? {
        guard code == .workException else { return nil }
        return GearmanExceptionText.code(of: message)
    }

    public var description: String {
        switch code {
        case .workFailed: "job \(jobHandle ?? "?") failed"
        case .workException: "job \(jobHandle ?? "?") raised an exception: \(message)"
        case .serverError: "server error \(serverCode ?? "?"): \(message)"
        case .connectionLost: "connection to \(server.map { "\($0)" } ?? "the server") lost before the job finished"
        case .timeout: "timed out"
        case .noServerAvailable: "no job server available (\(message))"
        case .protocolViolation: "protocol violation: \(message)"
        case .shutDown: "shut down"
        default: message.isEmpty ? code.rawValue : "\(code.rawValue): \(message)"
        }
    }
}
