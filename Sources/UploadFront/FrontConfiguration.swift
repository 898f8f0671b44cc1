import Gearman
import GearmanServer
import Imaging
import NIOCore
import NIOSSL

/// What `gearbox front` serves: the sizes each upload is turned into, where the results go, and the limits
/// that keep a burst of uploads from exhausting the machine.
public struct FrontConfiguration: Sendable {
    /// One named output size: `small=100x100`.
    public struct NamedSize: Sendable, Hashable {
        public var name: String
        public var size: ImageSize

        public init(name: String, size: ImageSize) {
            self.name = name
            self.size = size
        }
    }

    public static let defaultSizes = try! sizes(parsing: "small=100x100,medium=640x480,large=1600x1200")

    public var host: String
    /// 0 picks a free port; `UploadFront`'s `onListening` reports it.
    public var port: Int
    /// Existing job servers; empty runs the embedded job server and a local farm in this process.
    public var servers: [GearmanServerAddress]
    public var sizes: [NamedSize]
    /// The folder that holds `<id>/original.<ext>` and `<id>/<size>.<ext>`.
    public var storage: String
    /// Per photo: the byte limit (checked against Content-Length and while the body streams in) and the pixel limit.
    public var limits: ImageLimits
    /// The most bytes one request may carry, all files together.
    public var maxRequestBytes: Int
    /// The most photos one multipart upload may hold.
    public var maxPhotosPerUpload: Int
    /// The most resize jobs in flight at once, over all uploads; more wait their turn.
    public var maxConcurrentJobs: Int
    /// The Gearman function each size is submitted to, with `?size=WxH` and the image as its workload.
    public var function: String
    /// How long one size's job may take, queueing on the job server included.
    public var jobTimeout: Duration
    /// The Retry-After a 503 carries, in seconds.
    public var retryAfterSeconds: Int
    /// Workers the embedded farm runs (ignored with `servers`).
    public var embeddedWorkers: Int
    /// Where the embedded job server keeps background jobs (without `servers`).
    public var embeddedStore: StoreLocation
    /// TLS to `servers` (`GearmanTLSFiles.makeClientContext()`).
    public var serverTLS: NIOSSLContext?

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        servers: [GearmanServerAddress] = [],
        sizes: [NamedSize] = FrontConfiguration.defaultSizes,
        storage: String = "photos",
        limits: ImageLimits = .default,
        maxRequestBytes: Int? = nil,
        maxPhotosPerUpload: Int = 20,
        maxConcurrentJobs: Int = 32,
        function: String = "thumbnail",
        jobTimeout: Duration = .seconds(30),
        retryAfterSeconds: Int = 5,
        embeddedWorkers: Int = System.coreCount,
        embeddedStore: StoreLocation = .memory,
        serverTLS: NIOSSLContext? = nil
    ) {
        self.serverTLS = serverTLS
        self.host = host
        self.port = port
        self.servers = servers
        self.sizes = sizes
        self.storage = storage
        self.limits = limits
        self.maxRequestBytes = maxRequestBytes ?? limits.maxInputBytes * 2
        self.maxPhotosPerUpload = maxPhotosPerUpload
        self.maxConcurrentJobs = maxConcurrentJobs
        self.function = function
        self.jobTimeout = jobTimeout
        self.retryAfterSeconds = retryAfterSeconds
        self.embeddedWorkers = embeddedWorkers
        self.embeddedStore = embeddedStore
    }

    /// Parses `small=100x100,medium=640x480,large=1600x1200`. Names are letters, digits, `-` and `_`;
    /// `original` is taken by the upload itself.
    public static func sizes(parsing text: String) throws -> [NamedSize] {
        var result: [NamedSize] = []
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw FrontConfigurationError("size '\(entry)' is not NAME=WIDTHxHEIGHT") }
            let name = String(parts[0]).trimming(" ")
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isNameByte) else {
                throw FrontConfigurationError("size name '\(name)' must be letters, digits, '-' or '_'")
            }
            guard name != "original" else { throw FrontConfigurationError("size name 'original' is reserved") }
            guard !result.contains(where: { $0.name == name }) else {
                throw FrontConfigurationError("size '\(name)' given twice")
            }
            let size: ImageSize
            do {
                size = try ImageSize(parsing: String(parts[1]))
            } catch {
                throw FrontConfigurationError("size '\(name)': \(error)")
            }
            result.append(NamedSize(name: name, size: size))
        }
        guard !result.isEmpty else { throw FrontConfigurationError("at least one size is needed") }
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
