import Imaging

/// Which files one photo should have: every size at every density, in its fallback format and in each of
/// the modern formats. The fallback is the size's own `format`, else JPEG, or PNG for a photo with
/// transparency, so that every browser can show it. Files in a `deferred` format are made by a background
/// job queued once the upload is answered.
public struct VariantPlan: Sendable, Hashable {
    public var sizes: [SizePreset]
    public var densities: [Int]
    /// Besides the fallback, in the order they are preferred when a browser takes several.
    public var formats: [ImageFormat]
    /// Those of `formats` made after the upload is answered.
    public var deferred: [ImageFormat]

    public init(sizes: [SizePreset], densities: [Int], formats: [ImageFormat], deferred: [ImageFormat] = []) {
        self.sizes = sizes
        self.densities = densities
        self.formats = formats
        self.deferred = deferred.filter(formats.contains)
    }

    /// The formats a size can be served in, when the browser takes none of `formats`.
    public static let fallbackFormats: [ImageFormat] = [.jpeg, .png, .gif, .webp, .avif]

    public func fallback(for preset: SizePreset, hasAlpha: Bool) -> ImageFormat {
        preset.format ?? (hasAlpha ? .png : .jpeg)
    }

    /// The formats `fallback(for:hasAlpha:)` may give `preset`, when whether the photo has alpha is unknown.
    public func fallbackCandidates(for preset: SizePreset) -> [ImageFormat] {
        preset.format.map { [$0] } ?? [.jpeg, .png]
    }

    /// The files an upload makes before it answers: every file but those in a deferred format.
    public func uploadVariants(hasAlpha: Bool) -> [PhotoVariant] {
        variants(hasAlpha: hasAlpha).filter { $0.isFallback || !deferred.contains($0.format) }
    }

    /// Every file of a photo: fallback first, then the modern formats, size by size.
    public func variants(hasAlpha: Bool) -> [PhotoVariant] {
        var result: [PhotoVariant] = []
        for preset in sizes {
            for density in densities {
                let fallback = fallback(for: preset, hasAlpha: hasAlpha)
                result.append(PhotoVariant(preset: preset, density: density, format: fallback, isFallback: true))
                for format in formats where format != fallback {
                    result.append(PhotoVariant(preset: preset, density: density, format: format, isFallback: false))
                }
            }
        }
        return result
    }

    /// The size and density a stored name such as `thumb@2x` stands for.
    public func variantName(_ name: String) -> (preset: SizePreset, density: Int)? {
        for preset in sizes {
            for density in densities where PhotoVariant.name(preset.name, density: density) == name {
                return (preset, density)
            }
        }
        return nil
    }
}
