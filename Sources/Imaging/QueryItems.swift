import Foundation

/// Option name/value pairs as they arrive in a URL query, a Gearman job's argument text, or
/// from command-line flags, read with clear errors for unknown names and bad values.
///
/// `size=320x240&format=webp&quality=80&crop=attention&strip=true`
public struct QueryItems: Sendable, Hashable {
    public var items: [QueryItem]

    public init(_ items: [QueryItem]) {
        self.items = items
    }

    public init(_ pairs: [(name: String, value: String)]) {
        self.items = pairs.map { QueryItem(name: $0.name, value: $0.value) }
    }

    /// Splits `a=1&b=2` (a leading `?` is ignored), decoding `%XX` escapes and `+` as space.
    /// A name without `=` gets the value "" (so `strip` alone means strip=true).
    public init(parsing query: String) {
        var text = Substring(query)
        if text.first == "?" { text = text.dropFirst() }
        items = text.split(separator: "&", omittingEmptySubsequences: true).map { part in
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ piece: Substring) -> String {
                let spaced = piece.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return QueryItem(name: decode(pieces[0]), value: pieces.count > 1 ? decode(pieces[1]) : "")
        }
    }

    /// `a=1&b=2`, percent-encoding what needs it.
    public var encoded: String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        func encode(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
        }
        return items.map { "\(encode($0.name))=\(encode($0.value))" }.joined(separator: "&")
    }

    public var pairs: [(name: String, value: String)] {
        items.map { ($0.name, $0.value) }
    }
}

/// One option name and its value.
public struct QueryItem: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Reads typed values from query items, refusing unknown and repeated names up front.
struct OptionReader {
    private let values: [String: String]

    init(_ items: QueryItems, known: [String]) throws {
        var values: [String: String] = [:]
        for item in items.items {
            guard known.contains(item.name) else {
                throw ImagingError.unknownOption(item.name, known: known)
            }
            guard values[item.name] == nil else {
                throw ImagingError.duplicateOption(item.name)
            }
            values[item.name] = item.value
        }
        self.values = values
    }

    func value<T>(_ name: String, expected: String, _ parse: (String) throws -> T?) throws -> T? {
        guard let text = values[name] else { return nil }
        guard let value = try parse(text) else {
            throw ImagingError.invalidOption(name: name, value: text, expected: expected)
        }
        return value
    }

    func bool(_ name: String) throws -> Bool? {
        try value(name, expected: "true or false") { text in
            switch text.lowercased() {
            case "", "true", "1", "yes", "on": return true
            case "false", "0", "no", "off": return false
            default: return nil
            }
        }
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        try value(name, expected: "a whole number from \(range.lowerBound) to \(range.upperBound)") { text in
            Int(text).flatMap { range.contains($0) ? $0 : nil }
        }
    }

    func double(_ name: String, in range: ClosedRange<Double>, expected: String) throws -> Double? {
        try value(name, expected: expected) { text in
            Double(text).flatMap { $0.isFinite && range.contains($0) ? $0 : nil }
        }
    }

    func choice<T: CaseIterable & RawRepresentable>(_ name: String, _ type: T.Type,
                                                     parse: (String) -> T? = { T(rawValue: $0.lowercased()) }) throws -> T?
    where T.RawValue == String {
        try value(name, expected: "one of " + T.allCases.map(\.rawValue).joined(separator: ", "), parse)
    }
}
