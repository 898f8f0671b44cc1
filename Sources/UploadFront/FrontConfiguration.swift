import Gearman
import GearmanServer
import Imaging
import NIOCore
import NIOSSL
import PhotoMetadata

/// What `gearbox front` serves: the sizes each upload is turned into, where the results go, and the limits
/// that keep a burst of uploads from exhausting the machine.
public struct FrontConfiguration: Sendable {
    public static let defaultSizes = try! SizePreset.list(parsing: "small=100x100,medium=640x480,large=1600x1200")
    public static let defaultFormats: [ImageFormat] = [.avif, .webp]
    public static let defaultDeferredFormats: [ImageFormat] = [.avif]

    public var host: String
    /// 0 picks a free port; `UploadFront`'s `onListening` reports it.
    public var port: Int
    /// Existing job servers; empty runs the embedded job server and a local farm in this process.
    public var servers: [GearmanServerAddress]
    public var sizes: [SizePreset]
    /// Pixel densities each size is made at: 1, and 2 for `@2x` in `srcset`.
    public var densities: [Int]
    /// The modern formats made beside each size's fallback, preferred in this order when a browser's
    /// Accept header takes several.
    public var formats: [ImageFormat]
    /// Those of `formats` that are made after the upload is answered, by a background job per photo (AVIF's
    /// encoder costs 3-4 times WebP's: made at upload, it would set an upload's latency).
    public var deferredFormats: [ImageFormat]
    /// The folder that holds `<id>/original.<ext>` and `<id>/<size>[@2x].<ext>`.
    public var storage: String
    /// Per photo: the byte limit (checked against Content-Length and while the body streams in), the pixel,
    /// progressive and frame limits.
    public var limits: ImageLimits
    /// The most bytes one request may carry, all files together.
    public var maxRequestBytes: Int
    /// The most photos one multipart upload may hold.
    public var maxPhotosPerUpload: Int
    /// The most resize jobs in flight at once, over all uploads; more wait their turn.
    public var maxConcurrentJobs: Int
    /// The most jobs that may wait for one of those slots; an upload that would need more is answered 429.
    public var maxQueuedJobs: Int
    /// The Gearman function each size is submitted to, with `?size=WxH` and the image as its workload.
    public var function: String
    /// How long the front waits for one size, from asking for a job slot to the result.
    public var jobTimeout: Duration
    /// How long a worker may work on one size before it stops libvips and fails the job (`time_limit`).
    public var jobTimeLimit: Duration
    /// The Retry-After a 503 or 429 carries, in seconds.
    public var retryAfterSeconds: Int
    /// Workers the embedded farm runs (ignored with `servers`).
    public var embeddedWorkers: Int
    /// Where the embedded job server keeps background jobs (without `servers`).
    public var embeddedStore: StoreLocation
    /// TLS to `servers` (`GearmanTLSFiles.makeClientContext()`).
    public var serverTLS: NIOSSLContext?
    /// The metadata of the original that is kept; location, camera and everything else is removed.
    public var keptMetadata: Set<KeptMetadata>
    /// Signs every photo URL the front hands out and refuses unsigned ones; nil: URLs are not signed.
    public var signer: URLSigner?
    /// The background function that makes a photo's missing files (`gearbox front backfill`).
    public var backfillFunction: String
    /// Queue the backfill of every photo that lacks a file when the front starts.
    public var backfillAtStart: Bool
    /// Serve `/photos/ID/image?OPTIONS` unsigned: anyone may then make the farm render any size. Off, the
    /// route needs `signer` and a signed URL.
    public var unsafeTransforms: Bool
    /// The most bytes the results of `/photos/ID/image` keep on disk (`STORAGE/.transforms`); the least
    /// recently used go first.
    public var transformCacheBytes: Int
    /// The largest width or height `/photos/ID/image` may ask for; width x height is also held to
    /// `limits.maxMegapixels`.
    public var maxTransformDimension: Int

    public static let defaultTransformCacheBytes = 1 << 30

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        servers: [GearmanServerAddress] = [],
        sizes: [SizePreset] = FrontConfiguration.defaultSizes,
        densities: [Int] = [1, 2],
        formats: [ImageFormat] = FrontConfiguration.defaultFormats,
        deferredFormats: [ImageFormat] = FrontConfiguration.defaultDeferredFormats,
        storage: String = "photos",
        limits: ImageLimits = .default,
        maxRequestBytes: Int? = nil,
        maxPhotosPerUpload: Int = 20,
        maxConcurrentJobs: Int = 32,
        maxQueuedJobs: Int = 512,
        function: String = "thumbnail",
        jobTimeout: Duration = .seconds(30),
        jobTimeLimit: Duration = .seconds(20),
        retryAfterSeconds: Int = 5,
        embeddedWorkers: Int = System.coreCount,
        embeddedStore: StoreLocation = .memory,
        serverTLS: NIOSSLContext? = nil,
        keptMetadata: Set<KeptMetadata> = [],
        signer: URLSigner? = nil,
        backfillFunction: String = "gearbox_front_backfill",
        backfillAtStart: Bool = false,
        unsafeTransforms: Bool = false,
        transformCacheBytes: Int = FrontConfiguration.defaultTransformCacheBytes,
        maxTransformDimension: Int = 8192
    ) {
        self.serverTLS = serverTLS
        self.host = host
        self.port = port
        self.servers = servers
        self.sizes = sizes
        self.densities = densities
        self.formats = formats
        self.deferredFormats = deferredFormats
        self.storage = storage
        self.limits = limits
        self.maxRequestBytes = maxRequestBytes ?? limits.maxInputBytes * 2
        self.maxPhotosPerUpload = maxPhotosPerUpload
        self.maxConcurrentJobs = maxConcurrentJobs
        self.maxQueuedJobs = maxQueuedJobs
        self.function = function
        self.jobTimeout = jobTimeout
        self.jobTimeLimit = jobTimeLimit
        self.retryAfterSeconds = retryAfterSeconds
        self.embeddedWorkers = embeddedWorkers
        self.embeddedStore = embeddedStore
        self.keptMetadata = keptMetadata
        self.signer = signer
        self.backfillFunction = backfillFunction
        self.backfillAtStart = backfillAtStart
        self.unsafeTransforms = unsafeTransforms
        self.transformCacheBytes = transformCacheBytes
        self.maxTransformDimension = maxTransformDimension
    }

    /// Every file each photo should have.
    public var plan: VariantPlan {
        VariantPlan(sizes: sizes, densities: densities, formats: formats, deferred: deferredFormats)
    }

    /// Parses `avif,webp` (or an empty text for none): the modern formats, in order of preference.
    public static func formats(parsing text: String) throws -> [ImageFormat] {
        var result: [ImageFormat] = []
        for name in text.split(separator: ",") {
            let name = String(name).trimming(" ")
            guard let format = ImageFormat(name: name), format == .avif || format == .webp else {
                throw FrontConfigurationError("format '\(name)' is not avif or webp")
            }
            if !result.contains(format) { result.append(format) }
        }
        return result
    }

    /// Parses `1,2`: 1 is always made; 2 and 3 add `@2x` and `@3x`.
    public static func densities(parsing text: String) throws -> [Int] {
        var result = [1]
        for item in text.split(separator: ",") {
            guard let density = Int(String(item).trimming(" ")), (1...3).contains(density) else {
                throw FrontConfigurationError("density '\(item)' is not 1, 2 or 3")
            }
            if !result.contains(density) { result.append(density) }
        }
        return result.sorted()
    }

    /// Parses `copyright,artist` (or empty for nothing kept).
    public static func keptMetadata(parsing text: String) throws -> Set<KeptMetadata> {
        var result: Set<KeptMetadata> = []
        for name in text.split(separator: ",") {
            guard let kept = KeptMetadata(name: String(name).trimming(" ")) else {
                let known = KeptMetadata.allCases.map(\.rawValue).joined(separator: ", ")
                throw FrontConfigurationError("cannot keep '\(name)' (known: \(known))")
            }
            result.insert(kept)
        }
        return result
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "_")
    }
}

public struct FrontConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension StringProtocol {
    func trimming(_ character: Character) -> String {
        String(drop { $0 == character }.reversed().drop { $0 == character }.reversed())
    }
}
