import ArgumentParser
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

    @Option(
        name: [.short, .long], help: "Box to fit in: 200x150, 200x, x150 or 200, then >, < or ! (default 128).",
        transform: ImageSize.argument)
    var size: ImageSize?

    @Option(
        name: [.short, .long], help: "Output name pattern; %s is the input's name without extension; - for stdout.")
    var output: String?

    @OptionGroup(title: "Output") var image: ImageOutputOptions

    @Flag(inversion: .prefixedNo, help: "Rotate upright by EXIF orientation (default on).")
    var rotate: Bool?

    @Flag(help: "Keep every frame of an animated GIF or WebP (default: first frame).")
    var animated = false

    @Flag(help: "Progressive JPEG or interlaced PNG.")
    var interlace = false

    @Option(
        help:
            "How far a JPEG shrinks as it decodes: fast (the smallest size that covers the box) or vipsthumbnail (libvips' own, leaving a factor of two for Lanczos3) (default: fast)."
    )
    var pipeline: ThumbnailPipeline?

    @Option(help: "Images processed at once (default: the number of cores).")
    var threads: Int?

    @OptionGroup(title: "Limits") var limits: ImageLimitOptions

    /// The flags as the query items that the Gearman functions and the upload front also take.
    var queryItems: [QueryItem] {
        var items: [QueryItem] = []
        if let size { items.append(QueryItem(name: "size", value: size.description)) }
        items += image.queryItems
        if let rotate { items.append(QueryItem(name: "rotate", value: String(rotate))) }
        if animated { items.append(QueryItem(name: "animated", value: "true")) }
        if interlace { items.append(QueryItem(name: "interlace", value: "true")) }
        if let pipeline { items.append(QueryItem(name: "pipeline", value: pipeline.rawValue)) }
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
            options = try ThumbnailOptions(queryItems: QueryItems(queryItems))
        } catch {
            throw ValidationError(String(describing: error))
        }
        if options.output.format == nil, let pattern = output, pattern != "-" {
            let ext = PathText.fileExtension(pattern)
            if !ext.isEmpty {
                guard let format = ImageFormat(writableName: ext) else {
                    throw ValidationError("cannot write .\(ext) files: use jpg, png, webp, avif or gif")
                }
                options.output.format = format
            }
        }

        let threads = min(threads ?? System.coreCount, max(1, inputs.count))
        let processor = ImageProcessor(
            configuration: .init(
                threads: threads,
                limits: limits.limits()))
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
        await processor.shutdown()
        if failures > 0 {
            throw ExitCode(1)
        }
    }
}
