/// Rewrites a photo's container without the metadata that could reveal where, when or with what it was
/// taken, without decoding its pixels: the compressed image data and the ICC colour profile are copied
/// byte for byte, the orientation is kept, and so are the `KeptMetadata` fields asked for.
///
/// The input is untrusted: every length and offset is checked before use, and a file that cannot be walked
/// safely throws a `MetadataError` instead. The output is never more than a few dozen bytes longer than the
/// input, and scrubbing it again gives the same bytes with nothing removed.
public enum MetadataScrubber {
    /// `bytes` without revealing metadata, and what was found and removed.
    ///
    /// - Parameters:
    ///   - bytes: a JPEG, PNG or WebP file.
    ///   - keeping: the EXIF fields to keep when the file has them; none by default.
    /// - Throws: `MetadataError.unsupportedContainer` for any other format, `.truncated` or `.malformed`
    ///   when the file's structure cannot be walked.
    public static func scrub(_ bytes: [UInt8], keeping: Set<KeptMetadata> = []) throws(MetadataError) -> ScrubbedPhoto {
        switch container(of: bytes) {
        case .jpeg?:
            return try JPEGScrubber.scrub(bytes, keeping: keeping)
        case .png?:
            return try PNGScrubber.scrub(bytes, keeping: keeping)
        case .webp?:
            return try WebPScrubber.scrub(bytes, keeping: keeping)
        case nil:
            throw MetadataError.unsupportedContainer
        }
    }

    /// The container that `bytes` start like (JPEG FF D8 FF, the PNG signature, RIFF....WEBP), or nil.
    public static func container(of bytes: [UInt8]) -> PhotoContainer? {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) {
            return .jpeg
        }
        if bytes.starts(with: PNGScrubber.signature) {
            return .png
        }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), bytes[8..<12].elementsEqual("WEBP".utf8) {
            return .webp
        }
        return nil
    }
}
