import Imaging

/// What a worker uses where a job's options line says nothing: `gearbox worker --size --format --quality
/// --pipeline`.
public struct ImageFunctionDefaults: Sendable, Hashable {
    /// The box `thumbnail` fits into, and the width and height `resize` fits inside.
    public var size: ImageSize
    public var format: ImageFormat?
    public var quality: Int?
    /// How far `thumbnail` shrinks a JPEG as it decodes; nil: ``ThumbnailOptions``' default.
    public var pipeline: ThumbnailPipeline?
    /// The longest one job may run; a job's own `time_limit` can only shorten it.
    public var timeLimit: Duration

    public static let defaultSize = try! ImageSize(parsing: "200x150")
    public static let defaultTimeLimit = Duration.seconds(60)

    public init(
        size: ImageSize = Self.defaultSize, format: ImageFormat? = nil, quality: Int? = nil,
        pipeline: ThumbnailPipeline? = nil, timeLimit: Duration = Self.defaultTimeLimit
    ) {
        self.size = size
        self.format = format
        self.quality = quality
        self.pipeline = pipeline
        self.timeLimit = timeLimit
    }

    /// The job's options for `function`, completed with these defaults. The job's own values win.
    func completed(_ options: QueryItems, for function: ImageFunction) -> QueryItems {
        var items = options.items
        let named = Set(items.map(\.name))
        func fill(_ name: String, _ value: String?) {
            if let value, !named.contains(name) {
                items.append(QueryItem(name: name, value: value))
            }
        }
        switch function {
        case .thumbnail:
            fill("size", size.description)
            fill("pipeline", pipeline?.rawValue)
        case .resize:
            items = Self.expandingSize(items)
            if named.isDisjoint(with: ["size", "width", "height", "scale"]) {
                fill("width", size.width.map(String.init))
                fill("height", size.height.map(String.init))
            }
        case .info:
            return options
        }
        fill("format", format?.rawValue)
        fill("quality", quality.map(String.init))
        return QueryItems(items)
    }

    /// `resize` takes `size=WxH` as well, so that one options line serves both functions.
    private static func expandingSize(_ items: [QueryItem]) -> [QueryItem] {
        items.flatMap { item -> [QueryItem] in
            guard item.name == "size", let size = try? ImageSize(parsing: item.value) else { return [item] }
            return [
                size.width.map { QueryItem(name: "width", value: String($0)) },
                size.height.map { QueryItem(name: "height", value: String($0)) },
            ].compactMap { $0 }
        }
    }
}
