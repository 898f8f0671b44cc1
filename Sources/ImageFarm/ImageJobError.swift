/// Why an image job was refused before libvips saw it.
public enum ImageJobError: Error, Sendable, Hashable, CustomStringConvertible {
    case optionsLineNotTerminated(limit: Int)
    case optionsLineNotText
    case unknownFunction(String)

    public var description: String {
        switch self {
        case .optionsLineNotTerminated(let limit):
            return "bad options line: a workload starting with '?' needs a newline within \(limit) bytes"
        case .optionsLineNotText:
            return "bad options line: not UTF-8 text"
        case .unknownFunction(let name):
            return "unknown image function '\(name)' (known: \(ImageFunction.allCases.map(\.rawValue).joined(separator: ", ")))"
        }
    }
}
