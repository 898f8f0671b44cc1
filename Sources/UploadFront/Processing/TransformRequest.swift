import Crypto
import Foundation
import Imaging

/// What `GET /photos/ID/image?OPTIONS&e=EXPIRES&s=SIGNATURE` asks for: the `thumbnail` function's options
/// (`ThumbnailOptions`), apart from the signature's `s` and `e`. Every spelling of the same options (any
/// order, defaults given or left out) has one normalized form, which is what is signed and what names the
/// result, so that they share one signature, one job and one cached file.
public struct TransformRequest: Sendable, Hashable {
    /// The query names the signature takes; every other name is an option.
    public static let signatureNames: Set<String> = ["s", "e"]

    public var options: ThumbnailOptions
    /// Whether the URL named a format; without one, the front picks it from `Accept`.
    public var namesFormat: Bool { options.output.format != nil }
    /// `e`: the expiry the URL was signed with, as it came.
    public var expires: String?
    /// `s`: the signature, as it came.
    public var signature: String?

    /// Splits a URL's query into options and signature. Throws `ImagingError` naming an unknown option or a
    /// bad value, for a 400.
    public init(query: QueryItems) throws {
        var options: [QueryItem] = []
        var signature: String?
        var expires: String?
        for item in query.items {
            switch item.name {
            case "s": signature = signature ?? item.value
            case "e": expires = expires ?? item.value
            default: options.append(item)
            }
        }
        self.options = try ThumbnailOptions(queryItems: QueryItems(options))
        self.signature = signature
        self.expires = expires
    }

    /// Parses a raw (percent-encoded) query string, `size=300x200&format=webp&s=…`.
    public init(query: String) throws {
        try self.init(query: QueryItems(parsing: query))
    }

    /// The options in one canonical form: `ThumbnailOptions.queryItems` (defaults decided, `center` spelt
    /// `centre`, ...) sorted by name, encoded. What the signature covers.
    public var normalizedQuery: String { Self.normalized(options) }

    static func normalized(_ options: ThumbnailOptions) -> String {
        QueryItems(options.queryItems.items.sorted { $0.name < $1.name }).encoded
    }

    /// Refuses a box wider or higher than `maxDimension`, or, when it names both, over `maxMegapixels`. A box
    /// that names one side is bounded by the worker, which refuses an output over the pixel limit.
    public func checkSize(maxDimension: Int, maxMegapixels: Double) throws(FrontError) {
        let size = options.size
        for (name, value) in [("width", size.width), ("height", size.height)] {
            if let value, value > maxDimension {
                throw FrontError(
                    .badRequest, "size \(size): the \(name) \(value) is more than this front makes (\(maxDimension))")
            }
        }
        if let width = size.width, let height = size.height,
            Double(width) * Double(height) > maxMegapixels * 1_000_000
        {
            throw FrontError(
                .badRequest,
                "size \(size): \(width)x\(height) is more than the \(Self.format(megapixels: maxMegapixels)) MP this front makes"
            )
        }
    }

    /// The options as the job gets them: these, in `format` when the URL named none.
    public func resolved(format: ImageFormat) -> ThumbnailOptions {
        var options = self.options
        if options.output.format == nil { options.output.format = format }
        return options
    }

    /// The name of the result of `function` with `options` on photo `id`: SHA-256 in hex (64 characters, the job
    /// server's limit for a unique key) of the function, the id and the normalized options, format included.
    /// Every front computes the same, so that the job servers coalesce the fronts' requests into one job and
    /// their result cache answers repeats; it also names the cached file.
    public static func key(function: String, photo id: String, options: ThumbnailOptions) -> String {
        let digest = SHA256.hash(data: Data("\(function)\n\(id)\n\(normalized(options))".utf8))
        return digest.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    private static func format(megapixels: Double) -> String {
        megapixels == megapixels.rounded() && abs(megapixels) < 1e15 ? String(Int(megapixels)) : String(megapixels)
    }
}
