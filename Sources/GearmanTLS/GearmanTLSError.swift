/// TLS could not be set up from the files given: one is missing, unreadable, or does not fit the others.
public struct GearmanTLSError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
