/// Options for ``ImageProcessor/resize(_:options:)``: decode, then resample to a width and/or
/// height or by a scale factor. Slower than a thumbnail, with control over the kernel and fit.
///
/// Query names: `width`, `height`, `scale`, `fit` (`inside`, `cover`, `fill`), `kernel`
/// (`nearest`, `linear`, `cubic`, `mitchell`, `lanczos2`, `lanczos3`), `crop` (which part
/// `cover` keeps: `centre`, `attention`, `entropy`), `rotate`, and the output options
/// `format`, `quality`, `strip` (default false here), `interlace`.
public struct ResizeOptions: Sendable, Hashable {
    /// What the output's size is derived from; set, and checked, only by the initialisers.
    public enum Extent: Sendable, Hashable {
        /// A factor for both axes.
        case scale(Double)
        /// A width; the height keeps the aspect ratio.
        case width(Int)
        /// A height; the width keeps the aspect ratio.
        case height(Int)
        /// Both, combined by ``ResizeOptions/fit``.
        case box(width: Int, height: Int)
    }

    public private(set) var extent: Extent
    public var width: Int? {
        switch extent {
        case .width(let width), .box(let width, _): width
        case .scale, .height: nil
        }
    }
    public var height: Int? {
        switch extent {
        case .height(let height), .box(_, let height): height
        case .scale, .width: nil
        }
    }
    /// A factor for both axes, instead of width and height.
    public var scale: Double? {
        if case .scale(let scale) = extent { scale } else { nil }
    }
    public var fit: ResizeFit
    public var kernel: ResizeKernel
    /// The part `cover` keeps; `none` means centre.
    public var crop: CropMode
    public var rotate: Bool
    public var output: OutputOptions

    public init(
        width: Int? = nil,
        height: Int? = nil,
        scale: Double? = nil,
        fit: ResizeFit = .inside,
        kernel: ResizeKernel = .lanczos3,
        crop: CropMode = .centre,
        rotate: Bool = true,
        output: OutputOptions = OutputOptions(strip: false)
    ) throws {
        extent = try Self.extent(width: width, height: height, scale: scale)
        self.fit = fit
        self.kernel = kernel
        self.crop = crop
        self.rotate = rotate
        self.output = output
    }

    public static let optionNames =
        ["width", "height", "scale", "fit", "kernel", "crop", "rotate"]
        + OutputOptions.optionNames

    /// Parses `width=800&fit=cover&height=600&kernel=lanczos3&format=webp` style pairs.
    public init(queryItems: QueryItems) throws {
        let reader = try OptionReader(queryItems, known: Self.optionNames)
        let dimension = 1...ImageSize.maximumDimension
        extent = try Self.extent(
            width: try reader.int("width", in: dimension), height: try reader.int("height", in: dimension),
            scale: try reader.double("scale", in: 0.0001...100, expected: "a number above 0 and at most 100"))
        fit = try reader.choice("fit", ResizeFit.self) ?? .inside
        kernel = try reader.choice("kernel", ResizeKernel.self) ?? .lanczos3
        crop = try reader.choice("crop", CropMode.self, parse: CropMode.init(name:)) ?? .centre
        rotate = try reader.bool("rotate") ?? true
        output = try OutputOptions(reader, defaults: OutputOptions(strip: false))
    }

    public init(queryItems: [(name: String, value: String)]) throws {
        try self.init(queryItems: QueryItems(queryItems))
    }

    public init(query: String) throws {
        try self.init(queryItems: QueryItems(parsing: query))
    }

    public var queryItems: QueryItems {
        var items: [QueryItem] = []
        if let width { items.append(QueryItem(name: "width", value: String(width))) }
        if let height { items.append(QueryItem(name: "height", value: String(height))) }
        if let scale { items.append(QueryItem(name: "scale", value: String(scale))) }
        items.append(QueryItem(name: "fit", value: fit.rawValue))
        items.append(QueryItem(name: "kernel", value: kernel.rawValue))
        items.append(QueryItem(name: "crop", value: crop.rawValue))
        if !rotate { items.append(QueryItem(name: "rotate", value: "false")) }
        return QueryItems(items + output.queryItems)
    }

    private static func extent(width: Int?, height: Int?, scale: Double?) throws -> Extent {
        if scale != nil && (width != nil || height != nil) {
            throw ImagingError.invalidOptions("resize takes either scale or width/height, not both")
        }
        if let scale, !(scale > 0 && scale <= 100) {
            throw ImagingError.invalidOption(
                name: "scale", value: String(scale), expected: "a number above 0 and at most 100")
        }
        for (name, value) in [("width", width), ("height", height)] {
            if let value, !(1...ImageSize.maximumDimension).contains(value) {
                throw ImagingError.invalidOption(
                    name: name, value: String(value),
                    expected: "a whole number from 1 to \(ImageSize.maximumDimension)")
            }
        }
        switch (width, height, scale) {
        case (let width?, let height?, _): return .box(width: width, height: height)
        case (let width?, nil, _): return .width(width)
        case (nil, let height?, _): return .height(height)
        case (nil, nil, let scale?): return .scale(scale)
        case (nil, nil, nil): throw ImagingError.invalidOptions("resize needs width, height or scale")
        }
    }
}
