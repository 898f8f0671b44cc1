/// The text of a WORK_EXCEPTION that carries a code: `CODE: description`, the code made of upper-case letters,
/// digits and underscores, starting with a letter, at most 64 bytes.
public enum GearmanExceptionText {
    /// `CODE: description`, or the description alone when `code` is not a valid code.
    public static func make(code: String, description: String) -> String {
        isValid(code: Substring(code)) ? "\(code): \(description)" : description
    }

    /// The code at the start of `text`, or nil when it starts with none.
    public static func code(of text: String) -> String? {
        guard let colon = text.utf8.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let candidate = text[..<colon]
        let after = text[colon...].dropFirst()
        guard after.isEmpty || after.hasPrefix(" "), isValid(code: candidate) else { return nil }
        return String(candidate)
    }

    /// The text after the code, or all of it when it starts with none.
    public static func description(of text: String) -> String {
        guard let code = code(of: text) else { return text }
        return String(text.dropFirst(code.utf8.count + 1).drop { $0 == " " })
    }

    private static func isValid(code: Substring) -> Bool {
        guard let first = code.utf8.first, (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first),
            code.utf8.count <= 64
        else { return false }
        return code.utf8.allSatisfy { byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_")
        }
    }
}
