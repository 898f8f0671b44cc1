/// How ``ResizeOptions`` with both a width and a height treat the aspect ratio.
public enum ResizeFit: String, Sendable, Hashable, CaseIterable {
    /// Keep the aspect ratio and fit within width x height.
    case inside
    /// Keep the aspect ratio, cover width x height, then crop to exactly that.
    case cover
    /// Stretch to exactly width x height.
    case fill
}
