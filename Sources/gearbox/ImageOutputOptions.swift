import ArgumentParser
import Imaging

/// The output flags that `gearbox thumbnail` and `gearbox batch` share, typed, and their query items: the
/// options the image functions and the upload front take too.
struct ImageOutputOptions: ParsableArguments {
    @Option(
        help:
            "Output format: jpeg, png, webp, avif, gif (default: -o's extension where it has one, else the input's; JPEG for HEIF and TIFF)."
    )
    var format: ImageFormat?

    @Option(help: ArgumentHelp("Quality for jpeg, webp and avif.", valueName: "1-100"))
    var quality: Int?

    @Option(help: "Crop to fill the box: none, centre, attention, entropy.")
    var crop: CropMode?

    @Flag(inversion: .prefixedNo, help: "Drop metadata; colours are converted to sRGB first (default on).")
    var strip: Bool?

    func validate() throws {
        if let quality, !(1...100).contains(quality) {
            throw ValidationError("--quality must be 1 to 100")
        }
    }

    var queryItems: [QueryItem] {
        var items: [QueryItem] = []
        if let format { items.append(QueryItem(name: "format", value: format.rawValue)) }
        if let quality { items.append(QueryItem(name: "quality", value: String(quality))) }
        if let crop { items.append(QueryItem(name: "crop", value: crop.rawValue)) }
        if let strip { items.append(QueryItem(name: "strip", value: String(strip))) }
        return items
    }
}

/// Only the formats Gearbox writes are arguments.
extension ImageFormat: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(writableName: argument)
    }

    public static var allValueStrings: [String] { ["jpeg", "png", "webp", "avif", "gif"] }
}

extension CropMode: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(name: argument)
    }
}

extension ThumbnailPipeline: ExpressibleByArgument {}

extension ImageSize {
    /// For `-s`: a size, or the reason it is not one.
    static func argument(_ text: String) throws -> ImageSize {
        do { return try ImageSize(parsing: text) } catch { throw ValidationError("-s \(text): \(error)") }
    }
}
