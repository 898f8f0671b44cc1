/// The file formats `MetadataScrubber` rewrites, told apart by their first bytes.
public enum PhotoContainer: String, Sendable {
    case jpeg, png, webp

    /// The format's usual written name, for messages.
    var displayName: String {
        switch self {
        case .jpeg: "JPEG"
        case .png: "PNG"
        case .webp: "WebP"
        }
    }
}
