import Imaging

/// The URLs of a photo's files, signed when the front has a key: `/photos/ID/thumb` (the format the
/// browser prefers) and `/photos/ID/thumb@2x.avif` (one file).
struct PhotoLinks: Sendable {
    let signer: URLSigner?

    func url(id: String, file: String) -> String {
        let path = "/photos/\(id)/\(file)"
        return signer?.sign(path) ?? path
    }

    /// Each size's entry: the fallback at 1x describes it, `variants` lists every file made or failed.
    func sizes(id: String, plan: VariantPlan, made: [PhotoProcessor.Made]) -> [String: PhotoResult.Image] {
        var sizes: [String: PhotoResult.Image] = [:]
        for preset in plan.sizes {
            let mine = made.filter { $0.variant.preset.name == preset.name }
                .sorted {
                    ($0.variant.density, order($0.variant, plan)) < ($1.variant.density, order($1.variant, plan))
                }
            let variants = mine.map { one -> PhotoResult.Variant in
                let file = "\(one.variant.name).\(one.variant.format.fileExtension)"
                guard let output = one.output else {
                    return PhotoResult.Variant(
                        format: one.variant.format.rawValue, density: one.variant.density,
                        error: one.failure?.reason, status: one.failure.map { Int($0.status.code) })
                }
                return PhotoResult.Variant(
                    format: one.variant.format.rawValue, density: one.variant.density, url: url(id: id, file: file),
                    width: output.info.displayWidth, height: output.info.displayHeight, bytes: one.bytes,
                    contentType: one.variant.format.mimeType)
            }
            // The fallback at 1x describes the size: it is what every browser can be sent.
            guard let fallback = mine.first(where: { $0.variant.density == 1 && $0.variant.isFallback }) else {
                continue
            }
            guard let output = fallback.output else {
                sizes[preset.name] = PhotoResult.Image(
                    error: fallback.failure?.reason ?? "failed",
                    status: fallback.failure.map { Int($0.status.code) } ?? 500,
                    variants: variants)
                continue
            }
            let pending = plan.deferred.filter { $0 != fallback.variant.format }.map(\.rawValue)
            sizes[preset.name] = PhotoResult.Image(
                url: url(id: id, file: preset.name), width: output.info.displayWidth, height: output.info.displayHeight,
                bytes: fallback.bytes, format: fallback.variant.format.rawValue,
                contentType: fallback.variant.format.mimeType, ms: output.jobTime.milliseconds,
                queuedMs: output.queueTime.milliseconds, variants: variants, pending: pending.isEmpty ? nil : pending)
        }
        return sizes
    }

    /// Fallback first, then the modern formats in their order of preference.
    private func order(_ variant: PhotoVariant, _ plan: VariantPlan) -> Int {
        variant.isFallback ? 0 : (plan.formats.firstIndex(of: variant.format) ?? 0) + 1
    }
}
