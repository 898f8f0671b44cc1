import CVips
import CVipsShim

/// libvips for the whole process: started once, with its operation cache off, untrusted loaders
/// (ImageMagick and friends) blocked, and its warnings kept off stderr.
///
/// libvips cannot be restarted after `vips_shutdown`, so it is never shut down.
public enum VipsRuntime {
    private static let started: Result<Void, ImagingError> = {
        if gearbox_vips_start("gearbox") != 0 {
            return .failure(.libvips("could not start libvips: \(takeError())"))
        }
        return .success(())
    }()

    /// Starts libvips if this process has not yet; cheap and safe to call from any thread.
    public static func start() throws {
        try started.get()
    }

    /// Threads libvips itself uses to evaluate one pipeline (its `VIPS_CONCURRENCY`), process-wide.
    public static var concurrency: Int {
        get { Int(vips_concurrency_get()) }
        set { vips_concurrency_set(Int32(max(1, newValue))) }
    }

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
