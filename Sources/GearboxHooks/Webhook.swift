import Foundation

/// One receiver of job events: a URL, and the function whose events it gets (nil: every function's).
public struct Webhook: Sendable, Hashable {
    public var url: String
    public var function: String?

    public init(url: String, function: String? = nil) {
        self.url = url
        self.function = function
    }

    /// Reads one `--webhook` argument: `URL` (an `http://` or `https://` URL, for every function) or
    /// `FUNCTION=URL`, split at the first `=`.
    public static func parse(_ argument: String) throws -> Webhook {
        if argument.hasPrefix("http://") || argument.hasPrefix("https://") {
            return Webhook(url: try checkedURL(argument, in: argument))
        }
        guard let equals = argument.firstIndex(of: "=") else {
            throw WebhookConfigurationError(
                reason: "--webhook \(argument): expected URL or FUNCTION=URL, with an http:// or https:// URL")
        }
        let function = String(argument[..<equals])
        guard !function.isEmpty else {
            throw WebhookConfigurationError(reason: "--webhook \(argument): the function before `=` is empty")
        }
        let url = String(argument[argument.index(after: equals)...])
        return Webhook(url: try checkedURL(url, in: argument), function: function)
    }

    private static func checkedURL(_ text: String, in argument: String) throws -> String {
        let url = URL(string: text)
        guard let scheme = url?.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw WebhookConfigurationError(
                reason: "--webhook \(argument): `\(text)` is not an http:// or https:// URL")
        }
        guard let host = url?.host, !host.isEmpty else {
            throw WebhookConfigurationError(reason: "--webhook \(argument): `\(text)` has no host")
        }
        return text
    }
}
