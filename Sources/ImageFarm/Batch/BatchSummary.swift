import Imaging

/// What happened to one photo in a batch.
public struct BatchPhotoResult: Sendable, Hashable {
    public var photo: BatchPlan.Photo
    /// Thumbnails written by this run.
    public var written: [String] = []
    /// Thumbnails that were already up to date.
    public var upToDate = 0
    /// Sizes that failed, with the reason.
    public var failures: [BatchFailure] = []
    public var bytesIn = 0
    public var bytesOut = 0
    /// Stopped by Ctrl-C before all its sizes were done.
    public var interrupted = false

    public init(photo: BatchPlan.Photo) {
        self.photo = photo
    }

    public var succeeded: Bool { failures.isEmpty && !interrupted }
}

/// One thumbnail that could not be made, and why: the worker's reason (`truncated JPEG`, `not an image`, ...).
public struct BatchFailure: Sendable, Hashable, CustomStringConvertible {
    /// The input, relative to the batch's folder.
    public var file: String
    /// nil when the file itself could not be read, so no size was tried.
    public var size: ImageSize?
    public var reason: String

    public init(file: String, size: ImageSize?, reason: String) {
        self.file = file
        self.size = size
        self.reason = reason
    }

    public var description: String {
        if let size { return "\(file) [\(size)]: \(reason)" }
        return "\(file): \(reason)"
    }
}

/// The totals of a batch run, and the summary `gearbox batch` prints.
public struct BatchSummary: Sendable, Hashable {
    public var photos = 0
    public var sizes: [ImageSize] = []
    public var written = 0
    public var upToDate = 0
    public var bytesIn = 0
    public var bytesOut = 0
    public var seconds = 0.0
    public var failures: [BatchFailure] = []
    /// Photos whose thumbnails were not all attempted because the run was interrupted.
    public var notDone = 0
    public var interrupted = false

    public init(photos: Int = 0, sizes: [ImageSize] = []) {
        self.photos = photos
        self.sizes = sizes
    }

    public mutating func add(_ result: BatchPhotoResult) {
        written += result.written.count
        upToDate += result.upToDate
        bytesIn += result.bytesIn
        bytesOut += result.bytesOut
        failures += result.failures
        if result.interrupted { notDone += 1 }
    }

    /// 0 when everything was made, 1 when something failed, 130 when interrupted (as a shell reports SIGINT).
    public var exitStatus: Int32 {
        if interrupted { return 130 }
        return failures.isEmpty ? 0 : 1
    }

    /// The lines `gearbox batch` ends with.
    public func render(outputRoot: String, farm: String? = nil) -> String {
        let sizeList = sizes.map(\.description).joined(separator: ", ")
        var lines: [String] = []
        lines.append(interrupted ? "Interrupted." : "Done.")
        lines.append(
            "  files:      \(photos) photo\(photos == 1 ? "" : "s") x \(sizes.count) size\(sizes.count == 1 ? "" : "s") (\(sizeList))"
        )
        lines.append(
            "  thumbnails: \(written) written, \(upToDate) already up to date, \(failures.count) failed"
                + (notDone > 0 ? ", \(notDone) photos not finished" : ""))
        lines.append("  bytes:      \(Self.bytes(bytesIn)) read, \(Self.bytes(bytesOut)) written")
        let rate = seconds > 0 ? Double(written) / seconds : 0
        lines.append("  time:       \(Self.duration(seconds)) (\(Self.decimal(rate)) thumbnails/s)")
        if let farm { lines.append("  farm:       \(farm)") }
        lines.append("  output:     \(outputRoot)")
        if !failures.isEmpty {
            lines.append("Failures:")
            for failure in failures.sorted(by: {
                ($0.file, $0.size?.description ?? "") < ($1.file, $1.size?.description ?? "")
            }) {
                lines.append("  \(failure)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `1.2 MB`, `340 KB`, `12 B` (powers of 1000, as file managers show).
    public static func bytes(_ count: Int) -> String {
        let value = Double(count)
        if value >= 1e9 { return "\(decimal(value / 1e9)) GB" }
        if value >= 1e6 { return "\(decimal(value / 1e6)) MB" }
        if value >= 1e3 { return "\(decimal(value / 1e3)) KB" }
        return "\(count) B"
    }

    /// `0.42 s`, `12.3 s`, `3:05`, `1:02:03`.
    public static func duration(_ seconds: Double) -> String {
        if seconds < 10 { return String(format2: seconds) + " s" }
        if seconds < 60 { return decimal(seconds) + " s" }
        let whole = Int(seconds.rounded())
        let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60)
        let mmss = "\(m < 10 && h > 0 ? "0" : "")\(m):\(s < 10 ? "0" : "")\(s)"
        return h > 0 ? "\(h):\(mmss)" : mmss
    }

    /// One decimal: `12.3`.
    static func decimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

extension String {
    /// Two decimals, without Foundation: `0.42`.
    init(format2 value: Double) {
        let hundredths = Int((value * 100).rounded())
        let fraction = hundredths % 100
        self = "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
