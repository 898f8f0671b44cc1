import Foundation

/// What `--webhook`, `--webhook-secret-file` and the outbox's limits ask of ``WebhookDelivery``.
public struct WebhookConfiguration: Sendable {
    public var hooks: [Webhook]
    /// The HMAC-SHA256 key of the `X-Gearbox-Signature` header; nil: requests are not signed.
    public var secret: [UInt8]?
    /// Events (one per event and receiving URL) held for delivery at most; past it the oldest are dropped.
    public var outboxCapacity: Int
    /// The wait after a URL's first failed attempt; each further failure doubles it, up to `maximumBackoff`.
    public var minimumBackoff: Duration
    public var maximumBackoff: Duration
    /// How long one POST may take, from connecting to the end of the response.
    public var requestTimeout: Duration
    /// How long the last attempt at what is queued may take once graceful shutdown has begun.
    public var shutdownTimeout: Duration

    public init(
        hooks: [Webhook], secret: [UInt8]? = nil, outboxCapacity: Int = 100_000,
        minimumBackoff: Duration = .seconds(1), maximumBackoff: Duration = .seconds(60),
        requestTimeout: Duration = .seconds(10), shutdownTimeout: Duration = .seconds(5)
    ) {
        self.hooks = hooks
        self.secret = secret
        self.outboxCapacity = outboxCapacity
        self.minimumBackoff = minimumBackoff
        self.maximumBackoff = maximumBackoff
        self.requestTimeout = requestTimeout
        self.shutdownTimeout = shutdownTimeout
    }

    /// The secret in a `--webhook-secret-file`: its bytes without the trailing line break.
    public static func readSecret(atPath path: String) throws -> [UInt8] {
        let contents: Data
        do {
            contents = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw WebhookConfigurationError(reason: "--webhook-secret-file \(path): cannot read it: \(error)")
        }
        var secret = [UInt8](contents)
        while let last = secret.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") {
            secret.removeLast()
        }
        guard !secret.isEmpty else {
            throw WebhookConfigurationError(reason: "--webhook-secret-file \(path): the file is empty")
        }
        return secret
    }
}
