import CVipsShim
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The C allocator of a process that decodes images on several threads. glibc's malloc gives threads that
/// allocate at the same moment arenas of their own, up to eight per core, and keeps what they freed for
/// later: a worker or a front that has decoded a few large photos on a few threads then holds hundreds of
/// megabytes it no longer uses. Fewer arenas bound how much can pile up, and ``IdleMemoryRelease`` hands
/// the free pages back once the images are done.
public enum ProcessMemory {
    /// Arenas for a process of `cores` cores: half as many as cores, and at least two, so that threads that
    /// allocate at once rarely wait for each other.
    public static func arenas(cores: Int = System.coreCount) -> Int {
        max(2, cores / 2)
    }

    /// Caps the malloc arenas of this process from now on, unless `MALLOC_ARENA_MAX` in the environment
    /// already did; call it first thing, before threads start.
    public static func limitArenas(to arenas: Int = ProcessMemory.arenas()) {
        guard getenv("MALLOC_ARENA_MAX") == nil else { return }
        gearbox_malloc_limit_arenas(Int32(max(1, arenas)))
    }

    /// Hands the free pages of every arena back to the system (glibc's `malloc_trim`).
    public static func releaseFreePages() {
        gearbox_malloc_trim()
    }
}
