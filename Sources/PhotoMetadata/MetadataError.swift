/// Why `MetadataScrubber` could not rewrite a file.
public enum MetadataError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The bytes are not a JPEG, PNG or WebP file.
    case unsupportedContainer
    /// The file ends before its structure does: a segment or chunk runs past the end, or the end marker
    /// (JPEG EOI, PNG IEND) is missing.
    case truncated(PhotoContainer)
    /// The file's structure is broken in the way described.
    case malformed(PhotoContainer, String)

    public var description: String {
        switch self {
        case .unsupportedContainer:
            "not a JPEG, PNG or WebP file"
        case .truncated(let container):
            "the \(container.displayName) file is cut short"
        case .malformed(let container, let reason):
            "malformed \(container.displayName) file: \(reason)"
        }
    }
}
