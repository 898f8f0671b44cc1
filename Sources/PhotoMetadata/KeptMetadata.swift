/// A harmless EXIF field that the uploader may ask to keep. Each is an ASCII tag of IFD0; a kept value is
/// cut at its first NUL, capped at 4096 bytes, stripped of trailing white space, and dropped when it is not
/// printable UTF-8.
public enum KeptMetadata: String, Sendable, CaseIterable, Hashable {
    /// Copyright (0x8298).
    case copyright
    /// Artist (0x013B).
    case artist
    /// ImageDescription (0x010E).
    case description
    /// DateTime (0x0132): when the file was last changed, not when the photo was taken.
    case dateTime = "datetime"

    /// The field with raw value `name`, ignoring case ("Copyright", "DATETIME"), or nil for any other name.
    public init?(name: String) {
        self.init(rawValue: name.lowercased())
    }

    /// The field's TIFF tag in IFD0.
    var tag: UInt16 {
        switch self {
        case .copyright: 0x8298
        case .artist: 0x013B
        case .description: 0x010E
        case .dateTime: 0x0132
        }
    }

    /// The field whose TIFF tag in IFD0 is `tag`, if any.
    init?(tag: UInt16) {
        guard let field = Self.allCases.first(where: { $0.tag == tag }) else { return nil }
        self = field
    }
}
