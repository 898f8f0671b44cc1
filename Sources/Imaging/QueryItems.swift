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
            return QueryItem(
                name: QueryItems.decode(pieces[0]),
                value: pieces.count > 1 ? QueryItems.decode(pieces[1]) : "")
        }
    }

    /// `a=1&b=2`, percent-encoding what needs it.
    public var encoded: String {
        items.map { "\(QueryItems.encode($0.name))=\(QueryItems.encode($0.value))" }.joined(separator: "&")
    }

    /// `+` as space and `%XX` as that byte; a `%` not followed by two hex digits stays as is.
    static func decode(_ text: Substring) -> String {
        let input = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == UInt8(ascii: "+") {
                output.append(UInt8(ascii: " "))
                index += 1
            } else if byte == UInt8(ascii: "%"), index + 2 < input.count,
                let high = hex(input[index + 1]), let low = hex(input[index + 2])
            {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(byte)
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Percent-encodes everything but letters, digits and `-._~`.
    static func encode(_ text: String) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.append(byte)
            default:
                output += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 15)]]
            }
        }
        return String(decoding: output, as: UTF8.self)
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

    func choice<T: CaseIterable & RawRepresentable>(
        _ name: String, _ type: T.Type,
        parse: (String) -> T? = { T(rawValue: $0.lowercased()) }
    ) throws -> T?
    where T.RawValue == String {
        try value(name, expected: "one of " + T.allCases.map(\.rawValue).joined(separator: ", "), parse)
    }
}
