import CVips
import CVipsShim

/// Which part of an image to keep when cropping to fill a box exactly.
public enum CropMode: String, Sendable, Hashable, CaseIterable {
    /// No crop: fit within the box.
    case none
    /// The centre.
    case centre
    /// The part most likely to draw the eye (skin tones, saturated colour, edges).
    case attention
    /// The part with the most detail.
    case entropy

    /// Parses `none`, `centre` (or `center`), `attention`, `entropy`.
    public init?(name: String) {
        if name.lowercased() == "center" {
            self = .centre
            return
        }
        self.init(rawValue: name.lowercased())
    }

    var vips: VipsInteresting {
        switch self {
        case .none: return VIPS_INTERESTING_NONE
        case .centre: return VIPS_INTERESTING_CENTRE
        case .attention: return VIPS_INTERESTING_ATTENTION
        case .entropy: return VIPS_INTERESTING_ENTROPY
        }
    }
}
