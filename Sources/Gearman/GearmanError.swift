/// Why a job, a status query or a connection failed.
public enum GearmanError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The worker sent WORK_FAIL, or the job was cancelled on the server.
    case workFailed(handle: String)
    /// The worker sent WORK_EXCEPTION with this message.
    case workException(handle: String, message: String)
    /// The server answered with an ERROR packet.
    case serverError(code: String, message: String)
    /// The connection to the server closed before the answer arrived.
    case connectionLost(server: GearmanServerAddress)
    /// No answer within the timeout given.
    case timeout
    /// Every server is down or refused the connection.
    case noServerAvailable(reason: String)
    /// The server sent something this library cannot read.
    case protocolViolation(String)
    /// The client or worker has been shut down.
    case shutDown

    public var description: String {
        switch self {
        case .workFailed(let handle): "job \(handle) failed"
        case .workException(let handle, let message): "job \(handle) raised an exception: \(message)"
        case .serverError(let code, let message): "server error \(code): \(message)"
        case .connectionLost(let server): "connection to \(server) lost before the job finished"
        case .timeout: "timed out"
        case .noServerAvailable(let reason): "no job server available (\(reason))"
        case .protocolViolation(let text): "protocol violation: \(text)"
        case .shutDown: "shut down"
        }
    }
}
