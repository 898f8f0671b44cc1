import Foundation

/// The fields of `application/x-www-form-urlencoded` text, a request's query or a form's body: `name=value`
/// pairs joined by `&`, percent-encoded, with `+` for a space. The first of a repeated name counts.
struct FormFields: Sendable {
    private var values: [String: String] = [:]

    init(_ text: some StringProtocol) {
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else { continue }
            let value = parts.count == 2 ? Self.decode(parts[1]) : ""
            if values[name] == nil, let value {
                values[name] = value
            }
        }
    }

    subscript(name: String) -> String? { values[name] }

    /// These fields, with `other`'s where both have one.
    func overridden(by other: FormFields) -> FormFields {
        var merged = self
        merged.values.merge(other.values) { _, theirs in theirs }
        return merged
    }

    private static func decode(_ text: some StringProtocol) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
