import CVips
import CVipsShim
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libvips for the whole process, set up once: its operation cache off, untrusted loaders (ImageMagick and
/// friends) blocked, its warnings kept off stderr, and its threads per image fixed by the first
/// ``start(concurrency:)``, which the first `ImageProcessor` makes with its first operation unless the program
/// made it before.
///
/// libvips cannot be restarted after `vips_shutdown`, so it is never shut down.
public enum VipsRuntime {
    /// Loading happens once, as Swift initialises a global: callers that come meanwhile wait for it.
    private static let loaded: Result<Void, ImagingError> = {
        gearbox_vips_start("gearbox") == 0
            ? .success(()) : .failure(.libvips("could not start libvips: \(takeError())"))
    }()

    private static let concurrencyFixed = NIOLockedValueBox(false)

    /// Loads libvips and its modules if this process has not yet (the slow part of starting it: tens of
    /// milliseconds), without fixing its threads per image. A command that will need images calls it on
    /// another thread as it starts, so that the loading overlaps with its own start-up. Safe to call from any
    /// thread.
    public static func load() throws {
        try loaded.get()
    }

    /// Starts libvips if this process has not yet, with `concurrency` threads per image (libvips'
    /// `VIPS_CONCURRENCY` environment variable, when set, wins); later calls change nothing. Safe to call
    /// from any thread.
    public static func start(concurrency: Int) throws {
        try loaded.get()
        concurrencyFixed.withLockedValue { fixed in
            if !fixed, getenv("VIPS_CONCURRENCY") == nil {
                vips_concurrency_set(Int32(max(1, concurrency)))
            }
            fixed = true
        }
    }

    /// Threads libvips itself uses to evaluate one pipeline (its `VIPS_CONCURRENCY`), process-wide.
    public static var concurrency: Int { Int(vips_concurrency_get()) }

    /// Bytes libvips holds for pixel buffers right now, across all images in flight.
    public static var trackedMemory: Int { Int(vips_tracked_get_mem()) }

    /// The most bytes libvips has held for pixel buffers at once since the process started.
    public static var trackedMemoryHighWater: Int { Int(vips_tracked_get_mem_highwater()) }

    /// Files libvips has open right now.
    public static var openFiles: Int { Int(vips_tracked_get_files()) }

    /// The libvips version, such as "8.14.1".
    public static var version: String {
        String(cString: vips_version_string())
    }

    /// libvips' messages since the current job began (see ``VipsErrorLog``).
    static func takeError() -> String {
        String(VipsErrorLog.take().trimmingWhitespace())
    }
}
