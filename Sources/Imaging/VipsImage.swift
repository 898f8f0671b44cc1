import CVips
import CVipsShim

/// An owned reference to a libvips image, released when the object goes away.
///
/// Images are lazy: opening one reads the header, and pixels are computed when a saver asks
/// for them. An image opened from a buffer reads that buffer until it is saved, so the buffer
/// must outlive it.
final class VipsImage {
    let pointer: UnsafeMutablePointer<CVips.VipsImage>

    init(_ pointer: UnsafeMutablePointer<CVips.VipsImage>) {
        self.pointer = pointer
    }

    deinit {
        gearbox_vips_image_unref(pointer)
    }

    /// Runs one libvips operation that produces a new image, turning failure into an error.
    static func make(
        _ failure: (String) -> ImagingError,
        _ operation: (UnsafeMutablePointer<UnsafeMutablePointer<CVips.VipsImage>?>) -> Int32
    ) throws -> VipsImage {
        var out: UnsafeMutablePointer<CVips.VipsImage>?
        guard operation(&out) == 0, let out else {
            throw failure(VipsRuntime.takeError())
        }
        return VipsImage(out)
    }

    /// Applies an operation to this image.
    func map(
        _ failure: (String) -> ImagingError,
        _ operation: (
            UnsafeMutablePointer<CVips.VipsImage>, UnsafeMutablePointer<UnsafeMutablePointer<CVips.VipsImage>?>
        ) -> Int32
    ) throws -> VipsImage {
        try VipsImage.make(failure) { operation(pointer, $0) }
    }

    var width: Int { Int(vips_image_get_width(pointer)) }
    /// The full height: all loaded pages stacked.
    var height: Int { Int(vips_image_get_height(pointer)) }
    var bands: Int { Int(vips_image_get_bands(pointer)) }
    var pageHeight: Int { Int(vips_image_get_page_height(pointer)) }
    /// Pages in the file (frames of an animation), whether or not they were loaded.
    var pageCount: Int { Int(vips_image_get_n_pages(pointer)) }
    var orientation: Int { Int(vips_image_get_orientation(pointer)) }
    var hasAlpha: Bool { vips_image_hasalpha(pointer) != 0 }
    var hasICCProfile: Bool { gearbox_vips_image_has_icc_profile(pointer) != 0 }
    var interpretation: VipsInterpretation { vips_image_get_interpretation(pointer) }
    var bandFormat: VipsBandFormat { vips_image_get_format(pointer) }

    /// The loader's nickname, such as "jpegload_buffer".
    var loader: String? {
        gearbox_vips_image_loader(pointer).map { String(cString: $0) }
    }

    /// A string field of the header, if present.
    func string(_ name: String) -> String? {
        guard vips_image_get_typeof(pointer, name) != 0 else { return nil }
        var value: UnsafePointer<CChar>?
        guard vips_image_get_string(pointer, name, &value) == 0, let value else {
            _ = VipsRuntime.takeError()
            return nil
        }
        return String(cString: value)
    }

    /// An integer field of the header, if present.
    func int(_ name: String) -> Int? {
        guard vips_image_get_typeof(pointer, name) != 0 else { return nil }
        var value: Int32 = 0
        guard vips_image_get_int(pointer, name, &value) == 0 else {
            _ = VipsRuntime.takeError()
            return nil
        }
        return Int(value)
    }

    /// The band values of one pixel (decodes the image up to that point).
    func pixel(x: Int, y: Int) throws -> [Double] {
        var values = [Double](repeating: 0, count: 16)
        var count: Int32 = 0
        let status = values.withUnsafeMutableBufferPointer {
            gearbox_vips_getpoint(pointer, $0.baseAddress, Int32($0.count), &count, Int32(x), Int32(y))
        }
        guard status == 0 else { throw ImagingError.libvips(VipsRuntime.takeError()) }
        return Array(values.prefix(Int(count)))
    }
}
