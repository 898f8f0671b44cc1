/// What the front answers for one uploaded photo: its id, the original, and each size, or why it failed.
public struct PhotoResult: Sendable, Codable, Hashable {
    /// One stored file of a size: a format at a density.
    public struct Variant: Sendable, Codable, Hashable {
        public var format: String
        public var density: Int
        public var url: String?
        public var width: Int?
        public var height: Int?
        public var bytes: Int?
        public var contentType: String?
        public var error: String?
        public var status: Int?

        enum CodingKeys: String, CodingKey {
            case format, density, url, width, height, bytes, error, status
            case contentType = "content_type"
        }
    }

    /// One stored image (a size or the original), or why that size failed. A size's `url` serves the format
    /// the browser's Accept header prefers (`Vary: Accept`); its fields describe the fallback at 1x, and
    /// `variants` lists every file, for `<picture>` and `srcset`.
    public struct Image: Sendable, Codable, Hashable {
        public var url: String?
        public var width: Int?
        public var height: Int?
        public var bytes: Int?
        public var format: String?
        public var contentType: String?
        /// The job's round trip through the farm.
        public var ms: Double?
        /// Time spent waiting for a free job slot before the job was submitted.
        public var queuedMs: Double?
        public var error: String?
        public var status: Int?
        public var variants: [Variant]?
        /// Formats being made after the upload answered (`avif`): `url` serves them once they exist.
        public var pending: [String]?
        /// For the original: what was found in it and removed (`gps`, `camera-make`, `xmp`, ...).
        public var removed: [String]?

        enum CodingKeys: String, CodingKey {
            case url, width, height, bytes, format, ms, error, status, variants, removed, pending
            case contentType = "content_type"
            case queuedMs = "queued_ms"
        }
    }

    public var id: String?
    public var filename: String?
    public var original: Image?
    /// By size name, in the configured order when rendered as a page.
    public var sizes: [String: Image]
    /// From the photo's bytes in hand to every size stored.
    public var ms: Double
    /// Set when the whole photo failed (not an image, over a limit, no farm).
    public var error: String?
    public var status: Int?

    public init(
        id: String? = nil, filename: String? = nil, original: Image? = nil, sizes: [String: Image] = [:],
        ms: Double = 0, error: String? = nil, status: Int? = nil
    ) {
        self.id = id
        self.filename = filename
        self.original = original
        self.sizes = sizes
        self.ms = ms
        self.error = error
        self.status = status
    }

    /// Whether at least one size was made.
    public var succeeded: Bool { sizes.values.contains { $0.error == nil } }
}

/// The answer to `POST /photos`.
public struct UploadResult: Sendable, Codable, Hashable {
    public var photos: [PhotoResult]
    /// From the request's arrival to the answer, body upload included.
    public var ms: Double
}
