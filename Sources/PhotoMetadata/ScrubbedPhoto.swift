/// A photo rewritten without its revealing metadata, and what was found and left out.
public struct ScrubbedPhoto: Sendable {
    /// The rewritten file: the same container, compressed pixels and colour profile, no revealing metadata.
    public var bytes: [UInt8]
    /// The file's format.
    public var container: PhotoContainer
    /// The EXIF orientation, 1...8; 1 when the file has none or an out-of-range one. Kept in `bytes` as a
    /// minimal EXIF block when it is not 1.
    public var orientation: Int
    /// The kinds of metadata that were in the file and are not in `bytes`.
    public var removed: Set<RemovedMetadata>
    /// Whether a JPEG's frame is progressive (SOF2, SOF6, SOF10 or SOF14); false for PNG and WebP.
    public var isProgressiveJPEG: Bool
}
