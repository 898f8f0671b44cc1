import Imaging
import NIOPosix

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
        if PathText.fileExtension(name).isEmpty {
            name += "." + format.fileExtension
        }
        let base = input == "-" ? "stdin" : PathText.removingExtension(PathText.lastComponent(input))
        name = PathText.substituting(base, for: "%s", in: name)
        if name.hasPrefix("/") || input == "-" { return name }
        return PathText.joining(PathText.folder(input), name)
    }
}
