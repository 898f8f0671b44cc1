/// Options for ``ImageProcessor/thumbnail(_:options:)``: the fast path, shrinking on load.
///
/// | query name  | `gearbox thumbnail` flag   | value                                         |
/// |-------------|----------------------------|-----------------------------------------------|
/// | `size`      | `-s`, `--size`             | `200x150`, `200x`, `x150`, `200`, + `>` `<` `!` |
/// | `crop`      | `--crop`                   | `none`, `centre`, `attention`, `entropy`      |
/// | `rotate`    | `--rotate`, `--no-rotate`  | apply EXIF orientation (default true)         |
/// | `animated`  | `--animated`               | keep all frames (default: first frame only)   |
/// | `pipeline`  | `--pipeline`               | `fast` (default), `vipsthumbnail`             |
/// | `format`    | `-f`, `--format`           | `jpeg`, `png`, `webp`, `avif`, `gif`          |
/// | `quality`   | `-q`, `--quality`          | 1...100                                       |
/// | `strip`     | `--strip`, `--no-strip`    | drop metadata (default true)                  |
/// | `interlace` | `--interlace`              | progressive JPEG / interlaced PNG             |
public struct ThumbnailOptions: Sendable, Hashable {
    /// The box to fit in; vipsthumbnail's default is 128.
    public var size: ImageSize
    public var crop: CropMode
    /// Apply the EXIF orientation so the result is upright.
    public var rotate: Bool
    /// Thumbnail every frame of an animated GIF/WebP when the output is GIF or WebP; other
    /// outputs, and `false`, take the first frame. The pixel limit then counts every frame.
    public var animated: Bool
    /// How far a JPEG is shrunk as it is decoded.
    public var pipeline: ThumbnailPipeline
    public var output: OutputOptions

    public init(
        size: ImageSize = ThumbnailOptions.defaultSize,
        crop: CropMode = .none,
        rotate: Bool = true,
        animated: Bool = false,
        pipeline: ThumbnailPipeline = .fast,
        output: OutputOptions = OutputOptions(strip: true)
    ) {
        self.size = size
        self.crop = crop
        self.rotate = rotate
        self.animated = animated
        self.pipeline = pipeline
        self.output = output
    }

    public static let defaultSize = try! ImageSize(width: 128, height: 128)

    /// Every query name, the same as the long `gearbox thumbnail` flags.
    public static let optionNames = ["size", "crop", "rotate", "animated", "pipeline"] + OutputOptions.optionNames

    /// Parses `size=320x240&format=webp&quality=80&crop=attention&strip=true` style pairs.
    /// Throws ``ImagingError`` naming the unknown option or the bad value.
    public init(queryItems: QueryItems) throws {
        let reader = try OptionReader(queryItems, known: Self.optionNames)
        self.init()
        if let size = try reader.value("size", expected: ImageSize.expected, { try ImageSize(parsing: $0) }) {
            self.size = size
        }
        if let crop = try reader.choice("crop", CropMode.self, parse: CropMode.init(name:)) { self.crop = crop }
        if let rotate = try reader.bool("rotate") { self.rotate = rotate }
        if let animated = try reader.bool("animated") { self.animated = animated }
        if let pipeline = try reader.choice("pipeline", ThumbnailPipeline.self) { self.pipeline = pipeline }
        output = try OutputOptions(reader, defaults: output)
    }

    public init(queryItems: [(name: String, value: String)]) throws {
        try self.init(queryItems: QueryItems(queryItems))
    }

    /// Parses a query string such as `size=200x150%3E&format=webp`.
    public init(query: String) throws {
        try self.init(queryItems: QueryItems(parsing: query))
    }

    /// These options as query items, parseable by ``init(queryItems:)``.
    public var queryItems: QueryItems {
        var items = [QueryItem(name: "size", value: size.description)]
        if crop != .none { items.append(QueryItem(name: "crop", value: crop.rawValue)) }
        if !rotate { items.append(QueryItem(name: "rotate", value: "false")) }
        if animated { items.append(QueryItem(name: "animated", value: "true")) }
        if pipeline != .fast { items.append(QueryItem(name: "pipeline", value: pipeline.rawValue)) }
        return QueryItems(items + output.queryItems)
    }
}
