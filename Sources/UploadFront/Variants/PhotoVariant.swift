import ImageFarm
import Imaging

/// One stored file of a photo's size: the size, its pixel density (1 or 2 for `@2x`) and its format,
/// stored as `<id>/<name>.<ext>` (`thumb@2x.avif`).
public struct PhotoVariant: Sendable, Hashable {
    public var preset: SizePreset
    public var density: Int
    public var format: ImageFormat
    /// Whether this is the size's fallback format, the one every browser is sent when it takes no other.
    public var isFallback: Bool

    public init(preset: SizePreset, density: Int, format: ImageFormat, isFallback: Bool) {
        self.preset = preset
        self.density = density
        self.format = format
        self.isFallback = isFallback
    }

    /// `thumb`, `thumb@2x`.
    public var name: String { Self.name(preset.name, density: density) }

    public static func name(_ size: String, density: Int) -> String {
        density == 1 ? size : "\(size)@\(density)x"
    }

    /// The image job's options: the box, crop, quality and format, stripped of metadata, and the time limit
    /// after which the worker stops it.
    func jobOptions(timeLimit: Duration?) -> QueryItems {
        var items = [QueryItem(name: "size", value: preset.size(density: density).description)]
        if preset.crop != .none { items.append(QueryItem(name: "crop", value: preset.crop.rawValue)) }
        items.append(QueryItem(name: "format", value: format.rawValue))
        if let quality = preset.quality { items.append(QueryItem(name: "quality", value: String(quality))) }
        items.append(QueryItem(name: "strip", value: "true"))
        if let timeLimit {
            items.append(QueryItem(name: ImageJobRequest.timeLimitOption, value: timeLimit.formattedSeconds))
        }
        return QueryItems(items)
    }
}
