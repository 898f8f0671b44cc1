import CVips
import CVipsShim

/// The resampling kernel for ``ResizeOptions``.
public enum ResizeKernel: String, Sendable, Hashable, CaseIterable {
    case nearest
    case linear
    case cubic
    case mitchell
    case lanczos2
    case lanczos3

    var vips: VipsKernel {
        switch self {
        case .nearest: return VIPS_KERNEL_NEAREST
        case .linear: return VIPS_KERNEL_LINEAR
        case .cubic: return VIPS_KERNEL_CUBIC
        case .mitchell: return VIPS_KERNEL_MITCHELL
        case .lanczos2: return VIPS_KERNEL_LANCZOS2
        case .lanczos3: return VIPS_KERNEL_LANCZOS3
        }
    }
}
