import Imaging

/// One named size every photo is made in, with how it is made:
/// `thumb=200x200:crop=attention:quality=70:format=png`. Without `format`, a size is made as JPEG, or PNG
/// when the photo has transparency; `--formats` adds the modern encodings beside it.
public struct SizePreset: Sendable, Hashable {
    public var name: String
    public var size: ImageSize
    public var crop: CropMode
    /// 1...100 for JPEG, WebP and AVIF; nil: each encoder's default.
    public var quality: Int?
    /// The format every browser is sent when it takes none of the modern ones; nil: JPEG (PNG with alpha).
    public var format: ImageFormat?

    public init(name: String, size: ImageSize, crop: CropMode = .none, quality: Int? = nil, format: ImageFormat? = nil)
    {
        self.name = name
        self.size = size
        self.crop = crop
        self.quality = quality
        self.format = format
    }

    /// Parses `thumb=200x200:crop=attention:quality=70,large=1600x1200`. Names are letters, digits, `-` and
    /// `_`; `original` is taken by the upload itself, `image` by `/photos/ID/image?OPTIONS`.
    public static func list(parsing text: String) throws -> [SizePreset] {
        var result: [SizePreset] = []
        for entry in text.split(separator: ",") {
            let preset = try SizePreset(parsing: entry)
            guard !result.contains(where: { $0.name == preset.name }) else {
                throw FrontConfigurationError("size '\(preset.name)' given twice")
            }
            result.append(preset)
        }
        guard !result.isEmpty else { throw FrontConfigurationError("at least one size is needed") }
        return result
    }

    init(parsing entry: Substring) throws {
        let parts = entry.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else {
            throw FrontConfigurationError(
                "size '\(entry)' is not NAME=WIDTHxHEIGHT[:crop=...][:quality=...][:format=...]")
        }
        let name = String(parts[0]).trimming(" ")
        guard !name.isEmpty, name.count <= 32, name.utf8.allSatisfy(FrontConfiguration.isNameByte) else {
            throw FrontConfigurationError("size name '\(name)' must be 1 to 32 letters, digits, '-' or '_'")
        }
        guard name != "original", name != "image" else {
            throw FrontConfigurationError("size name '\(name)' is reserved")
        }
        var fields = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        let sizeText = String(fields.removeFirst()).trimming(" ")
        do {
            self.init(name: name, size: try ImageSize(parsing: sizeText))
        } catch {
            throw FrontConfigurationError("size '\(name)': \(error)")
        }
        for field in fields {
            let pair = field.split(separator: "=", maxSplits: 1)
            let key = pair.first.map(String.init) ?? ""
            let value = pair.count == 2 ? String(pair[1]) : ""
            switch key {
            case "crop":
                guard let crop = CropMode(name: value) else {
                    throw FrontConfigurationError(
                        "size '\(name)': crop '\(value)' is not none, centre, attention or entropy")
                }
                self.crop = crop
            case "quality":
                guard let quality = Int(value), (1...100).contains(quality) else {
                    throw FrontConfigurationError("size '\(name)': quality '\(value)' is not 1...100")
                }
                self.quality = quality
            case "format":
                guard let format = ImageFormat(writableName: value) else {
                    throw FrontConfigurationError(
                        "size '\(name)': format '\(value)' is not jpeg, png, webp, avif or gif")
                }
                self.format = format
            default:
                throw FrontConfigurationError("size '\(name)': unknown setting '\(key)' (known: crop, quality, format)")
            }
        }
    }

    /// The box for `density` (2 for `@2x`): the size's dimensions multiplied, never past the original.
    func size(density: Int) -> ImageSize {
        guard density > 1 else { return size }
        let scaled =
            (try? ImageSize(
                width: size.width.map { min($0 * density, ImageSize.maximumDimension) },
                height: size.height.map { min($0 * density, ImageSize.maximumDimension) },
                mode: .down))
        return scaled ?? size
    }
}
