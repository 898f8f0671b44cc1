/// Why a `--webhook` argument or a `--webhook-secret-file` was refused.
public struct WebhookConfigurationError: Error, CustomStringConvertible, Hashable {
    public let reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
