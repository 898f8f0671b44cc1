import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Shows a batch's progress: a bar with rate and ETA redrawn in place on a terminal, a plain line per file
/// otherwise, or nothing.
public final class BatchProgress: Sendable {
    public enum Style: String, Sendable, Hashable, CaseIterable {
        /// A bar redrawn in place, with the rate and the time left.
        case bar
        /// One line per photo: `ok nature/Garden.jpg (2 thumbnails)`.
        case lines
        case none

        /// A bar when standard error is a terminal, else lines.
        public static func automatic(isTerminal: Bool = isatty(STDERR_FILENO) == 1) -> Style {
            isTerminal ? .bar : .lines
        }
    }

    private struct State {
        var photosDone = 0
        var bytesDone = 0
        var failures = 0
        var lastDraw: ContinuousClock.Instant?
        var drewBar = false
    }

    public let style: Style
    public let totalPhotos: Int
    public let totalBytes: Int
    private let start: ContinuousClock.Instant
    private let write: @Sendable (String) -> Void
    private let state = NIOLockedValueBox(State())

    /// `write` receives the text to show; by default it goes to standard error.
    public init(
        style: Style, totalPhotos: Int, totalBytes: Int,
        write: @escaping @Sendable (String) -> Void = BatchProgress.standardError
    ) {
        self.style = style
        self.totalPhotos = totalPhotos
        self.totalBytes = totalBytes
        self.start = .now
        self.write = write
    }

    /// Records a finished photo and shows it.
    public func photoFinished(_ result: BatchPhotoResult) {
        let now = ContinuousClock.now
        let text: String? = state.withLockedValue { state in
            state.photosDone += 1
            state.bytesDone += result.photo.byteCount
            state.failures += result.failures.isEmpty ? 0 : 1
            switch style {
            case .none:
                return nil
            case .lines:
                return Self.line(for: result) + "\n"
            case .bar:
                let finished = state.photosDone == totalPhotos
                if let last = state.lastDraw, now - last < .milliseconds(100), !finished { return nil }
                state.lastDraw = now
                state.drewBar = true
                let elapsed = Self.seconds(now - start)
                return "\r"
                    + Self.bar(
                        photosDone: state.photosDone, totalPhotos: totalPhotos, bytesDone: state.bytesDone,
                        totalBytes: totalBytes, failures: state.failures, elapsed: elapsed) + "\u{1B}[K"
            }
        }
        if let text { write(text) }
    }

    /// Ends the bar's line, so the summary starts on a fresh one.
    public func finish() {
        let drew = state.withLockedValue { $0.drewBar }
        if drew { write("\n") }
    }

    // MARK: Pure parts

    /// `ok   nature/Garden.jpg (2 thumbnails)`, `skip ... (up to date)`, `FAIL broken.jpg: truncated JPEG`.
    public static func line(for result: BatchPhotoResult) -> String {
        let name = result.photo.relativePath
        if !result.failures.isEmpty {
            return "FAIL \(name): "
                + result.failures.map { failure in
                    failure.size.map { "[\($0)] " + failure.reason } ?? failure.reason
                }.joined(separator: "; ")
        }
        if result.interrupted { return "stop \(name) (interrupted)" }
        if result.written.isEmpty { return "skip \(name) (up to date)" }
        let count = result.written.count
        return "ok   \(name) (\(count) thumbnail\(count == 1 ? "" : "s"))"
    }

    /// `[##########----------]  50%  6/12 photos  3.1 photos/s  ETA 0:02`. The ETA follows the bytes
    /// done rather than the photos, since photos go largest first.
    public static func bar(
        photosDone: Int, totalPhotos: Int, bytesDone: Int, totalBytes: Int, failures: Int = 0,
        elapsed: Double, width: Int = 24
    ) -> String {
        let fraction: Double
        if totalBytes > 0 {
            fraction = min(1, Double(bytesDone) / Double(totalBytes))
        } else {
            fraction = totalPhotos > 0 ? min(1, Double(photosDone) / Double(totalPhotos)) : 1
        }
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
        let percent = Int((fraction * 100).rounded(.down))
        let padding = String(repeating: " ", count: max(0, 3 - String(percent).count))
        let rate = elapsed > 0 ? Double(photosDone) / elapsed : 0
        var text =
            "\(bar) \(padding)\(percent)%  \(photosDone)/\(totalPhotos) photos  "
            + "\(BatchSummary.decimal(rate)) photos/s"
        if fraction >= 1 {
            text += "  \(BatchSummary.duration(elapsed))"
        } else if fraction > 0, elapsed > 0 {
            text += "  ETA " + eta(elapsed * (1 - fraction) / fraction)
        }
        if failures > 0 { text += "  \(failures) failed" }
        return text
    }

    /// `0:07`, `12:30`, `1:02:03`.
    public static func eta(_ seconds: Double) -> String {
        let whole = max(0, Int(seconds.rounded(.up)))
        let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60)
        let ss = s < 10 ? "0\(s)" : "\(s)"
        if h > 0 { return "\(h):\(m < 10 ? "0" : "")\(m):\(ss)" }
        return "\(m):\(ss)"
    }

    static func seconds(_ duration: Duration) -> Double {
        let (s, attoseconds) = duration.components
        return Double(s) + Double(attoseconds) / 1e18
    }

    public static let standardError: @Sendable (String) -> Void = { text in
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes {
                systemWrite(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset)
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

private func systemWrite(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, pointer, count)
}
