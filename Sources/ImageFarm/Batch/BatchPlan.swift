import Imaging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `gearbox batch DIR -o OUTDIR -s ...` will do: every image under `DIR` (recursively), each thumbnailed
/// at every requested size into `OUTDIR`, mirroring the folder layout:
///
///     DIR/2024/beach/sunset.jpg  ->  OUTDIR/2024/beach/sunset_200x150.jpg
///                                    OUTDIR/2024/beach/sunset_640x480.jpg
///
/// Images are recognised by their extension (`jpg`, `jpeg`, `png`, `webp`, `gif`, `avif`, `heic`, `heif`,
/// `tif`, `tiff`, any case). Hidden files and folders, and `OUTDIR` itself when it lies inside `DIR`, are
/// left out. An output that exists and is at least as new as its input is up to date and not made again,
/// so an interrupted run resumes where it stopped.
public struct BatchPlan: Sendable {
    /// One thumbnail of one photo.
    public struct Output: Sendable, Hashable {
        public var size: ImageSize
        public var path: String
        /// The file exists and is not older than its input.
        public var isUpToDate: Bool

        public init(size: ImageSize, path: String, isUpToDate: Bool = false) {
            self.size = size
            self.path = path
            self.isUpToDate = isUpToDate
        }
    }

    /// One input file and its thumbnails.
    public struct Photo: Sendable, Hashable {
        public var path: String
        /// The path below the input folder: `2024/beach/sunset.jpg`.
        public var relativePath: String
        public var byteCount: Int
        /// The format the thumbnails are written in.
        public var format: ImageFormat
        public var outputs: [Output]

        public var pending: [Output] { outputs.filter { !$0.isUpToDate } }

        public init(path: String, relativePath: String, byteCount: Int, format: ImageFormat, outputs: [Output]) {
            self.path = path
            self.relativePath = relativePath
            self.byteCount = byteCount
            self.format = format
            self.outputs = outputs
        }
    }

    public var inputRoot: String
    public var outputRoot: String
    public var sizes: [ImageSize]
    /// Every photo, largest first: the biggest ones set the critical path.
    public var photos: [Photo]

    public init(inputRoot: String, outputRoot: String, sizes: [ImageSize], photos: [Photo]) {
        self.inputRoot = inputRoot
        self.outputRoot = outputRoot
        self.sizes = sizes
        self.photos = photos
    }

    public var totalBytes: Int { photos.reduce(0) { $0 + $1.byteCount } }
    public var pendingOutputs: Int { photos.reduce(0) { $0 + $1.pending.count } }

    /// Walks `input` and works out every output. Throws `BatchError` for an unreadable input folder or
    /// sizes whose file names would collide.
    public static func make(
        input: String, output: String, sizes: [ImageSize], format: ImageFormat? = nil
    ) throws -> BatchPlan {
        guard !sizes.isEmpty else { throw BatchError.invalid("no sizes given") }
        var labels = Set<String>()
        for size in sizes where !labels.insert(label(for: size)).inserted {
            throw BatchError.invalid("size \(size) is given twice")
        }
        if let format, !format.isWritable {
            throw BatchError.invalid("cannot write \(format.displayName); use jpeg, png, webp, avif or gif")
        }
        guard isDirectory(input) else { throw BatchError.invalid("\(input) is not a folder") }
        let excluded = realPath(output)
        var photos: [Photo] = []
        try walk(input, relative: "", excluding: excluded) { path, relative, info in
            guard let inputFormat = imageFormat(ofName: relative) else { return }
            let outputFormat = format ?? (inputFormat.isWritable ? inputFormat : .jpeg)
            let outputs = sizes.map { size in
                let target = outputPath(
                    for: relative, size: size, format: outputFormat, outputRoot: output)
                return Output(size: size, path: target, isUpToDate: isUpToDate(target, input: info))
            }
            photos.append(
                Photo(
                    path: path, relativePath: relative, byteCount: Int(info.st_size), format: outputFormat,
                    outputs: outputs))
        }
        photos.sort { ($0.byteCount, $1.relativePath) > ($1.byteCount, $0.relativePath) }
        return BatchPlan(inputRoot: input, outputRoot: output, sizes: sizes, photos: photos)
    }

    // MARK: Pure parts

    /// `200x150` -> `200x150`; `200x` -> `200x`; `x150` -> `x150`; modifiers become words:
    /// `200x150>` -> `200x150-shrink`, `<` -> `-enlarge`, `!` -> `-exact`.
    public static func label(for size: ImageSize) -> String {
        let box = "\(size.width.map(String.init) ?? "")x\(size.height.map(String.init) ?? "")"
        switch size.mode {
        case .both: return box
        case .down: return box + "-shrink"
        case .up: return box + "-enlarge"
        case .force: return box + "-exact"
        }
    }

    /// `2024/beach/sunset.jpg` at 200x150 in WebP under `out` -> `out/2024/beach/sunset_200x150.webp`.
    public static func outputPath(
        for relativePath: String, size: ImageSize, format: ImageFormat, outputRoot: String
    ) -> String {
        let parts = relativePath.split(separator: "/").map(String.init)
        let name = parts.last ?? relativePath
        var base = name
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            base = String(name[..<dot])
        }
        let file = "\(base)_\(label(for: size)).\(format.fileExtension)"
        return
            (([outputRoot.hasSuffix("/") && outputRoot.count > 1 ? String(outputRoot.dropLast()) : outputRoot])
            + parts.dropLast() + [file]).joined(separator: "/")
    }

    /// The format a file's extension names, when it is one the farm reads.
    public static func imageFormat(ofName name: String) -> ImageFormat? {
        let file = name.split(separator: "/").last.map(String.init) ?? name
        guard let dot = file.lastIndex(of: "."), dot != file.startIndex else { return nil }
        return ImageFormat(name: String(file[file.index(after: dot)...]))
    }

    // MARK: File system

    private static func walk(
        _ folder: String, relative: String, excluding excluded: String?,
        _ visit: (String, String, stat) throws -> Void
    ) throws {
        guard let directory = opendir(folder) else {
            throw BatchError.invalid("cannot read \(folder): \(String(cString: strerror(errno)))")
        }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if !name.hasPrefix(".") { names.append(name) }
        }
        closedir(directory)
        for name in names.sorted() {
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            let relativePath = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard stat(path, &info) == 0 else { continue }  // a dangling link
            if (info.st_mode & S_IFMT) == S_IFDIR {
                if let excluded, realPath(path) == excluded { continue }
                try walk(path, relative: relativePath, excluding: excluded, visit)
            } else if (info.st_mode & S_IFMT) == S_IFREG {
                try visit(path, relativePath, info)
            }
        }
    }

    private static func isUpToDate(_ output: String, input: stat) -> Bool {
        var info = stat()
        guard stat(output, &info) == 0, info.st_size > 0 else { return false }
        #if canImport(Darwin)
        let out = info.st_mtimespec
        let source = input.st_mtimespec
        #else
        let out = info.st_mtim
        let source = input.st_mtim
        #endif
        return (out.tv_sec, out.tv_nsec) >= (source.tv_sec, source.tv_nsec)
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// Why a batch could not start.
public enum BatchError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let text): return text
        }
    }
}
