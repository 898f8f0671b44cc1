import CVips
import CVipsShim

/// The libvips work itself, synchronous and on the calling thread. ``ImageProcessor`` runs it
/// on its thread pool; the input bytes must stay valid for the whole call (libvips reads them
/// lazily, up to the moment the output is written).
enum ImagePipeline {
    /// An input opened lazily: its header is read and checked, no pixels are decoded.
    struct Opened {
        var image: VipsImage
        var format: ImageFormat
    }

    /// Checks size, recognises the format, opens the header, and checks the pixel count of the
    /// first page (``checkPages(_:limits:)`` checks all of them).
    static func open(_ data: UnsafeRawBufferPointer, limits: ImageLimits) throws -> Opened {
        guard let base = data.baseAddress, data.count > 0 else { throw ImagingError.emptyInput }
        if data.count > limits.maxInputBytes {
            throw ImagingError.tooManyBytes(bytes: data.count, limit: limits.maxInputBytes)
        }
        guard let loaderName = vips_foreign_find_load_buffer(base, data.count) else {
            _ = VipsRuntime.takeError()
            throw ImagingError.notAnImage
        }
        let loader = String(cString: loaderName)
        guard var format = ImageFormat(loader: loader) else {
            throw ImagingError.unsupportedFormat(ImageFormat.loaderFormatName(loader))
        }
        guard let pointer = gearbox_vips_image_new_from_buffer(base, data.count) else {
            throw ImagingError.decoding(format, VipsRuntime.takeError(), input: data)
        }
        let image = VipsImage(pointer)
        if format == .heif, image.string("heif-compression") == "av1" {
            format = .avif
        }
        try limits.checkPixels(width: image.width, height: image.pageHeight)
        if image.int("interlaced") == 1 {
            try limits.checkInterlaced(width: image.width, height: image.pageHeight)
        }
        try limits.checkFrames(max(1, image.pageCount))
        return Opened(image: image, format: format)
    }

    /// Checks width x page height x every page in the file against the limit.
    static func checkPages(_ opened: Opened, limits: ImageLimits) throws {
        let image = opened.image
        try limits.checkPixels(width: image.width, height: image.pageHeight, pages: max(1, image.pageCount))
    }

    static func info(_ data: UnsafeRawBufferPointer, limits: ImageLimits) throws -> ImageInfo {
        let opened = try open(data, limits: limits)
        let image = opened.image
        return ImageInfo(
            format: opened.format,
            width: image.width,
            height: image.pageHeight,
            bands: image.bands,
            orientation: (1...8).contains(image.orientation) ? image.orientation : 1,
            hasAlpha: image.hasAlpha,
            hasICCProfile: image.hasICCProfile,
            pages: max(1, image.pageCount))
    }

    static func thumbnail(_ data: UnsafeRawBufferPointer, options: ThumbnailOptions, limits: ImageLimits) throws
        -> ProcessedImage
    {
        try withDeadline(limits.timeLimit) { deadline in
            try thumbnail(data, options: options, limits: limits, deadline: deadline)
        }
    }

    static func resize(_ data: UnsafeRawBufferPointer, options: ResizeOptions, limits: ImageLimits) throws
        -> ProcessedImage
    {
        try withDeadline(limits.timeLimit) { deadline in
            try resize(data, options: options, limits: limits, deadline: deadline)
        }
    }

    /// Runs `body` with a deadline for `limit` (none without one); a failure after the deadline fired is
    /// reported as the time limit, whatever libvips said.
    private static func withDeadline(
        _ limit: Duration?, _ body: (EvaluationDeadline?) throws -> ProcessedImage
    ) throws -> ProcessedImage {
        guard let limit else { return try body(nil) }
        let deadline = EvaluationDeadline(limit: limit)
        defer { deadline.finish() }
        do {
            return try body(deadline)
        } catch let error as ImagingError {
            if deadline.fired { throw ImagingError.timeLimitExceeded(limit) }
            throw error
        }
    }

    private static func thumbnail(
        _ data: UnsafeRawBufferPointer, options: ThumbnailOptions, limits: ImageLimits, deadline: EvaluationDeadline?
    ) throws -> ProcessedImage {
        let opened = try open(data, limits: limits)
        let inputFormat = opened.format
        let hasICCProfile = opened.image.hasICCProfile
        let hasAlpha = opened.image.hasAlpha
        let outputFormat = outputFormat(options.output.format, input: inputFormat, hasAlpha: hasAlpha)
        // Only GIF and WebP outputs can hold an animation; others get the first frame.
        let animated =
            options.animated && inputFormat.hasPages && opened.image.pageCount > 1
            && (outputFormat == .gif || outputFormat == .webp)
        if animated {
            try checkPages(opened, limits: limits)
        }

        // vipsthumbnail's convention: a missing dimension is unbounded.
        let unbounded = 10_000_000
        let width = Int32(options.size.width ?? unbounded)
        let height = Int32(options.size.height ?? unbounded)
        let size: VipsSize
        switch options.size.mode {
        case .both: size = VIPS_SIZE_BOTH
        case .down: size = VIPS_SIZE_DOWN
        case .up: size = VIPS_SIZE_UP
        case .force: size = VIPS_SIZE_FORCE
        }
        let fail = { (message: String) in ImagingError.decoding(inputFormat, message, input: data) }
        let exportProfile = hasICCProfile ? "srgb" : nil
        let noRotate: Int32 = options.rotate ? 0 : 1
        var image: VipsImage
        let jpegShrink =
            inputFormat == .jpeg
            ? options.pipeline.jpegShrink(
                width: opened.image.width, height: opened.image.height, orientation: opened.image.orientation,
                box: options.size, crop: options.crop, rotate: options.rotate) : 1
        if options.pipeline == .fast && jpegShrink > 1 {
            guard let shrunk = gearbox_vips_jpeg_new_from_buffer_shrunk(data.baseAddress, data.count, Int32(jpegShrink))
            else { throw fail(VipsRuntime.takeError()) }
            image = try VipsImage(shrunk).map(fail) { input, out in
                gearbox_vips_thumbnail_image(
                    input, out, width, height, size, options.crop.vips, noRotate, exportProfile)
            }
        } else {
            // fail_on goes through the loader options: see gearbox_vips_thumbnail_buffer.
            let loadOptions = animated ? "[fail_on=truncated,n=-1]" : "[fail_on=truncated]"
            image = try VipsImage.make(fail) { out in
                gearbox_vips_thumbnail_buffer(
                    data.baseAddress, data.count, out, width, height, size, options.crop.vips, noRotate,
                    exportProfile, loadOptions)
            }
        }
        let pages = animated ? max(1, image.height / max(1, image.pageHeight)) : 1
        try limits.checkPixels(width: image.width, height: animated ? image.pageHeight : image.height, pages: pages)
        image = try prepareForSaving(image, format: outputFormat, inputFormat: inputFormat, data: data)
        try deadline?.watch(image)
        return try save(
            image, inputFormat: inputFormat, output: options.output, format: outputFormat, pages: pages, data: data)
    }

    private static func resize(
        _ data: UnsafeRawBufferPointer, options: ResizeOptions, limits: ImageLimits, deadline: EvaluationDeadline?
    ) throws -> ProcessedImage {
        let opened = try open(data, limits: limits)
        try deadline?.watch(opened.image)
        let inputFormat = opened.format
        let fail = { (message: String) in ImagingError.decoding(inputFormat, message, input: data) }
        var image = opened.image
        let outputFormat = outputFormat(options.output.format, input: inputFormat, hasAlpha: image.hasAlpha)

        if options.rotate {
            image = try image.map(fail) { gearbox_vips_autorot($0, $1) }
        }
        if image.hasICCProfile || image.interpretation == VIPS_INTERPRETATION_CMYK {
            image = try image.map(fail) { gearbox_vips_icc_to_srgb($0, $1) }
        }

        let sourceWidth = Double(image.width)
        let sourceHeight = Double(image.height)
        var hscale: Double
        var vscale: Double
        var target: (width: Int, height: Int)?
        switch options.extent {
        case .scale(let scale):
            hscale = scale
            vscale = scale
        case .box(let width, let height):
            let sx = Double(width) / sourceWidth
            let sy = Double(height) / sourceHeight
            switch options.fit {
            case .inside:
                hscale = min(sx, sy)
                vscale = hscale
            case .cover:
                hscale = max(sx, sy)
                vscale = hscale
                target = (width, height)
            case .fill:
                hscale = sx
                vscale = sy
                target = (width, height)
            }
        case .width(let width):
            hscale = Double(width) / sourceWidth
            vscale = hscale
        case .height(let height):
            hscale = Double(height) / sourceHeight
            vscale = hscale
        }
        let outWidth = max(1, Int((sourceWidth * hscale).rounded()))
        let outHeight = max(1, Int((sourceHeight * vscale).rounded()))
        try limits.checkPixels(width: outWidth, height: outHeight)
        // Nudge the factors so that libvips' rounding lands on the intended size.
        hscale = (Double(outWidth) + 0.1) / sourceWidth
        vscale = (Double(outHeight) + 0.1) / sourceHeight
        image = try image.map(fail) { gearbox_vips_resize($0, $1, hscale, vscale, options.kernel.vips) }

        if let target, image.width != target.width || image.height != target.height {
            let crop = options.crop == .none ? CropMode.centre : options.crop
            let width = Int32(min(target.width, image.width))
            let height = Int32(min(target.height, image.height))
            if crop == .attention || crop == .entropy {
                // These look at the whole image before choosing, which a sequential decode cannot
                // give twice: render the (already small) resized image to memory first.
                guard let rendered = vips_image_copy_memory(image.pointer) else {
                    throw fail(VipsRuntime.takeError())
                }
                image = VipsImage(rendered)
            }
            image = try image.map(fail) { gearbox_vips_smartcrop($0, $1, width, height, crop.vips) }
        }
        image = try prepareForSaving(image, format: outputFormat, inputFormat: inputFormat, data: data)
        try deadline?.watch(image)
        return try save(
            image, inputFormat: inputFormat, output: options.output, format: outputFormat, pages: 1, data: data)
    }

    /// The requested format, or the input's if it can be written, else JPEG (PNG with alpha).
    static func outputFormat(_ requested: ImageFormat?, input: ImageFormat, hasAlpha: Bool) -> ImageFormat {
        if let requested { return requested }
        if input.isWritable { return input }
        return hasAlpha ? .png : .jpeg
    }

    /// Brings pixels to what the saver wants: sRGB (or 16-bit for PNG), alpha flattened for JPEG.
    static func prepareForSaving(
        _ input: VipsImage, format: ImageFormat, inputFormat: ImageFormat,
        data: UnsafeRawBufferPointer
    ) throws -> VipsImage {
        let fail = { (message: String) in ImagingError.decoding(inputFormat, message, input: data) }
        var image = input
        let interpretation = image.interpretation
        if interpretation == VIPS_INTERPRETATION_CMYK {
            image = try image.map(fail) { gearbox_vips_icc_to_srgb($0, $1) }
        }
        let sixteenBit =
            image.interpretation == VIPS_INTERPRETATION_RGB16
            || image.interpretation == VIPS_INTERPRETATION_GREY16
        if sixteenBit && format != .png {
            let space =
                image.interpretation == VIPS_INTERPRETATION_GREY16 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB
            image = try image.map(fail) { gearbox_vips_colourspace($0, $1, space) }
        }
        if format == .jpeg && image.hasAlpha {
            image = try image.map(fail) { gearbox_vips_flatten_white($0, $1) }
        }
        return image
    }

    /// Encodes; this is where libvips decodes and computes the pixels.
    static func save(
        _ image: VipsImage, inputFormat: ImageFormat, output: OutputOptions,
        format: ImageFormat, pages: Int, data: UnsafeRawBufferPointer
    ) throws -> ProcessedImage {
        var buffer: UnsafeMutableRawPointer?
        var length = 0
        let quality = Int32(output.quality ?? 0)
        let strip: Int32 = output.strip ? 1 : 0
        let interlace: Int32 = output.interlace ? 1 : 0
        let status: Int32
        switch format {
        case .jpeg:
            status = gearbox_vips_jpegsave_buffer(
                image.pointer, &buffer, &length, quality > 0 ? quality : 75, strip, interlace)
        case .png:
            status = gearbox_vips_pngsave_buffer(image.pointer, &buffer, &length, strip, interlace)
        case .webp:
            status = gearbox_vips_webpsave_buffer(image.pointer, &buffer, &length, quality > 0 ? quality : 75, strip)
        case .avif:
            status = gearbox_vips_avifsave_buffer(image.pointer, &buffer, &length, quality > 0 ? quality : 50, strip)
        case .gif:
            status = gearbox_vips_gifsave_buffer(image.pointer, &buffer, &length, strip)
        case .heif, .tiff:
            throw ImagingError.cannotWrite(
                format, message: "not an output format (use one of jpeg, png, webp, avif, gif)")
        }
        guard status == 0, let buffer else {
            let message = VipsRuntime.takeError()
            if message.contains("save") && !message.lowercased().contains("load")
                && !message.contains("Vips\(inputFormat.displayName)")
            {
                let decoding = ImagingError.decoding(inputFormat, message, input: data)
                if decoding.code == .truncated { throw decoding }
                throw ImagingError.cannotWrite(format, message: message)
            }
            throw ImagingError.decoding(inputFormat, message, input: data)
        }
        defer { gearbox_vips_free(buffer) }
        let bytes = [UInt8](UnsafeRawBufferPointer(start: buffer, count: length))
        let pageHeight = pages > 1 ? image.pageHeight : image.height
        return ProcessedImage(bytes: bytes, format: format, width: image.width, height: pageHeight, pages: pages)
    }
}
