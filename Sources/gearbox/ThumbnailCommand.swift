import ArgumentParser
import Foundation
import Imaging
import NIOCore
import NIOPosix

/// `gearbox thumbnail`: vipsthumbnail's conventions, many files at once across the cores.
struct ThumbnailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thumbnail",
        abstract: "Make thumbnails of image files.",
        discussion: """
            Sizes and output names follow vipsthumbnail: -s 200x150 fits within 200 by 150, 200x and \
            x150 bound one side, 200 means 200x200; append > to only shrink, < to only enlarge, ! to \
            force the exact size. In -o, %s is the input's name without its extension; a relative \
            pattern is relative to each input's folder. The default is tn_%s with the output \
            format's extension. Use - as the input or the output for stdin or stdout.

            Examples:
              gearbox thumbnail photo.jpg -s 200x150
              gearbox thumbnail photos/*.jpg -s 320x240 --crop attention -o 'thumbs/%s.webp' --quality 80
              cat photo.jpg | gearbox thumbnail - -s 'x150>' --format webp > thumb.webp
            """
    )

    @Argument(help: "Image files; - reads standard input.")
    var inputs: [String]

    @Option(name: [.short, .long], help: "Box to fit in: 200x150, 200x, x150 or 200, then >, < or ! (default 128).")
    var size: String?

    @Option(name: [.short, .long], help: "Output name pattern; %s is the input's name without extension; - for stdout.")
    var output: String?

    @Option(help: "Crop to fill the box: none, centre, attention, entropy.")
    var crop: String?

    @Option(help: "Output format: jpeg, png, webp, avif, gif (default: the -o extension, else the input's).")
    var format: String?

    @Option(help: "Quality 1-100 for jpeg, webp and avif.")
    var quality: String?

    @Flag(inversion: .prefixedNo, help: "Drop metadata; colours are converted to sRGB first (default on).")
    var strip: Bool?

    @Flag(inversion: .prefixedNo, help: "Rotate upright by EXIF orientation (default on).")
    var rotate: Bool?

    @Flag(help: "Keep every frame of an animated GIF or WebP (default: first frame).")
    var animated = false

    @Flag(help: "Progressive JPEG or interlaced PNG.")
    var interlace = false

    @Option(help: "Images processed at once (default: the number of cores).")
    var threads: Int?

    @Option(help: "Refuse inputs that decode to more megapixels than this.")
    var maxMegapixels: Double = ImageLimits.default.maxMegapixels

    @Option(help: "Refuse inputs larger than this many bytes.")
    var maxBytes: Int = ImageLimits.default.maxInputBytes

    /// The flags as the query items that the Gearman functions and the upload front also take.
    var queryItems: [(name: String, value: String)] {
        var items: [(name: String, value: String)] = []
        if let size { items.append(("size", size)) }
        if let crop { items.append(("crop", crop)) }
        if let format { items.append(("format", format)) }
        if let quality { items.append(("quality", quality)) }
        if let strip { items.append(("strip", String(strip))) }
        if let rotate { items.append(("rotate", String(rotate))) }
        if animated { items.append(("animated", "true")) }
        if interlace { items.append(("interlace", "true")) }
        return items
    }

    func validate() throws {
        if output == "-" && inputs.count > 1 {
            throw ValidationError("-o - writes to stdout, which takes only one input")
        }
        if inputs.filter({ $0 == "-" }).count > 1 {
            throw ValidationError("standard input (-) can be given only once")
        }
        if let threads, threads < 1 {
            throw ValidationError("--threads must be at least 1")
        }
    }

    func run() async throws {
        var options: ThumbnailOptions
        do {
            options = try ThumbnailOptions(queryItems: queryItems)
        } catch {
            throw ValidationError(String(describing: error))
        }
        if options.output.format == nil, let pattern = output, pattern != "-" {
            let ext = (pattern as NSString).pathExtension
            if !ext.isEmpty {
                guard let format = ImageFormat(name: ext), format.isWritable else {
                    throw ValidationError("cannot write .\(ext) files: use jpg, png, webp, avif or gif")
                }
                options.output.format = format
            }
        }

        let threads = min(threads ?? System.coreCount, max(1, inputs.count))
        let processor = try ImageProcessor(configuration: .init(
            threads: threads,
            limits: ImageLimits(maxInputBytes: maxBytes, maxMegapixels: maxMegapixels)))
        let job = ThumbnailJob(processor: processor, options: options, pattern: output)

        // Largest first: the biggest photo sets the critical path, and the small ones fill the
        // other threads around it.
        let ordered = inputs.map { ($0, FileBytes.size(of: $0)) }.sorted { $0.1 > $1.1 }.map(\.0)
        var failures = 0
        await withTaskGroup(of: Bool.self) { group in
            var inFlight = 0
            for input in ordered {
                if inFlight >= threads * 2, let succeeded = await group.next() {
                    inFlight -= 1
                    if !succeeded { failures += 1 }
                }
                group.addTask { await job.process(input) }
                inFlight += 1
            }
            for await succeeded in group where !succeeded {
                failures += 1
            }
        }
        try await processor.shutdown()
        if failures > 0 {
            throw ExitCode(1)
        }
    }
}

/// One input file to one thumbnail: read, process, write, or an error line on stderr.
struct ThumbnailJob: Sendable {
    let processor: ImageProcessor
    let options: ThumbnailOptions
    let pattern: String?

    func process(_ input: String) async -> Bool {
        do {
            let bytes: [UInt8]
            if input == "-" {
                bytes = try await NIOThreadPool.singleton.runIfActive { try FileBytes.readStandardInput() }
            } else {
                let limit = processor.configuration.limits.maxInputBytes
                bytes = try await NIOThreadPool.singleton.runIfActive { try FileBytes.readFile(input, limit: limit) }
            }
            let result = try await processor.thumbnail(bytes, options: options)
            if let destination = destination(for: input, format: result.format) {
                if input != "-", FileBytes.samePath(destination, input) {
                    throw FileBytes.Failure(description: "refusing to overwrite the input with \(destination)")
                }
                try await NIOThreadPool.singleton.runIfActive { try FileBytes.writeFile(result.bytes, to: destination) }
            } else {
                try await NIOThreadPool.singleton.runIfActive { try FileBytes.writeStandardOutput(result.bytes) }
            }
            return true
        } catch {
            FileBytes.printError("\(input): \(error)")
            return false
        }
    }

    /// The output path, or nil for standard output.
    func destination(for input: String, format: ImageFormat) -> String? {
        if pattern == "-" || (pattern == nil && input == "-") { return nil }
        var name = pattern ?? "tn_%s"
        if (name as NSString).pathExtension.isEmpty {
            name += "." + format.fileExtension
        }
        let base = input == "-" ? "stdin" : ((input as NSString).lastPathComponent as NSString).deletingPathExtension
        name = name.replacingOccurrences(of: "%s", with: base)
        if name.hasPrefix("/") || input == "-" { return name }
        let folder = (input as NSString).deletingLastPathComponent
        return folder.isEmpty ? name : (folder as NSString).appendingPathComponent(name)
    }
}

/// Whole-file reads and writes with POSIX calls, straight into and out of byte arrays.
enum FileBytes {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func readFile(_ path: String, limit: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(description: String(cString: strerror(errno))) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw Failure(description: "is a directory") }
        let size = Int(info.st_size)
        if size > limit { throw ImagingError.tooManyBytes(bytes: size, limit: limit) }
        return try readAll(fd, expected: size)
    }

    /// The size of a file, for ordering work; stdin counts as largest, unreadable as 0.
    static func size(of path: String) -> Int {
        if path == "-" { return Int.max }
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    static func readStandardInput() throws -> [UInt8] {
        try readAll(STDIN_FILENO, expected: 0)
    }

    /// Reads to the end of `fd`; `expected` bytes (the file's size) go straight into place.
    private static func readAll(_ fd: Int32, expected: Int) throws -> [UInt8] {
        var bytes = [UInt8]()
        var capacity = max(expected, 64 * 1024)
        while true {
            let start = bytes.count
            var failure: Int32 = 0
            let target = capacity
            let filled = try [UInt8](unsafeUninitializedCapacity: target - start) { buffer, count in
                count = 0
                while count < buffer.count {
                    let n = read(fd, buffer.baseAddress! + count, buffer.count - count)
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        break
                    }
                    if n == 0 { break }
                    count += n
                }
                if failure != 0 { throw Failure(description: String(cString: strerror(failure))) }
            }
            if start == 0 { bytes = filled } else { bytes += filled }
            if bytes.count < capacity { return bytes }
            // Full: probe for more (stdin, or a file that grew) before growing.
            var probe: UInt8 = 0
            let n = read(fd, &probe, 1)
            if n == 0 { return bytes }
            if n < 0 && errno != EINTR { throw Failure(description: String(cString: strerror(errno))) }
            if n == 1 { bytes.append(probe) }
            capacity = bytes.count * 2
        }
    }

    static func writeFile(_ bytes: [UInt8], to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(description: "\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try writeAll(bytes, to: fd)
    }

    static func writeStandardOutput(_ bytes: [UInt8]) throws {
        try writeAll(bytes, to: STDOUT_FILENO)
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: String(cString: strerror(errno)))
            }
            offset += n
        }
    }

    static func samePath(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath()
            == URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath()
    }

    static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
