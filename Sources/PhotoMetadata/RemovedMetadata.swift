/// A kind of metadata that `MetadataScrubber` found in a file and left out of its copy.
public enum RemovedMetadata: String, Sendable, Hashable, CaseIterable {
    /// An EXIF block that held more than the orientation and the kept fields written back.
    case exif
    /// A GPS sub-IFD (IFD0 tag 0x8825).
    case gps
    /// The camera's maker or model (IFD0 Make 0x010F, Model 0x0110).
    case cameraMake = "camera-make"
    /// A body, lens or camera serial number (Exif BodySerialNumber 0xA431, LensSerialNumber 0xA435,
    /// CameraSerialNumber 0xC62F).
    case cameraSerial = "camera-serial"
    /// The maker's private notes (Exif MakerNote 0x927C).
    case makerNote = "maker-note"
    /// An embedded preview: an EXIF IFD1, a JFIF thumbnail or a JFXX segment.
    case thumbnail
    /// An XMP packet (JPEG APP1, PNG iTXt "XML:com.adobe.xmp", WebP "XMP ").
    case xmp
    /// IPTC data (JPEG APP13 Photoshop resources, PNG "Raw profile type iptc").
    case iptc
    /// A JPEG comment (COM).
    case comment
    /// PNG text chunks (tEXt, zTXt, iTXt).
    case text
    /// Bytes after the image: after JPEG's EOI (phones' MPF images and gain maps), PNG's IEND or the RIFF
    /// size of a WebP file.
    case extraImages = "extra-images"
    /// Any other segment or chunk left out.
    case other
}
