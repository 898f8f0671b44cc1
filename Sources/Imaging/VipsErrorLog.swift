import CVipsShim
import NIOConcurrencyHelpers

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// libvips keeps one error buffer for the whole process, and reading it (`vips_error_buffer_copy`)
/// clears it, so with several images in flight one job could read, and wipe, another job's
/// message. This log drains libvips' buffer into its own text under a lock, and each job reads
/// what was added since it began on its thread: its own messages are always there (rarely
/// alongside those of a job that failed at the same moment).
enum VipsErrorLog {
    private struct State {
        var text = ""
        /// Absolute position of `text`'s first character (text before it was dropped).
        var base = 0
        /// Start positions of the jobs in flight, by thread.
        var starts: [UInt: Int] = [:]

        mutating func drain() {
            if let copy = gearbox_vips_error_take() {
                text += String(cString: copy)
                gearbox_vips_free(copy)
            }
        }
    }

    private static let state = NIOLockedValueBox(State())

    private static func currentThread() -> UInt {
        #if canImport(Darwin)
        return UInt(bitPattern: pthread_self())
        #else
        return UInt(pthread_self())
        #endif
    }

    /// Marks the start of a job on the current thread.
    static func begin() {
        let thread = currentThread()
        state.withLockedValue { state in
            state.drain()
            state.starts[thread] = state.base + state.text.utf8.count
        }
    }

    /// Ends the current thread's job; forgets all messages when no job is left.
    static func end() {
        let thread = currentThread()
        state.withLockedValue { state in
            state.starts[thread] = nil
            state.drain()
            if state.starts.isEmpty {
                state.base += state.text.utf8.count
                state.text = ""
            } else if state.text.utf8.count > 1 << 16 {
                // Keep memory bounded under constant load: drop all but the last 16 KB.
                let keep = Substring(state.text.utf8.suffix(1 << 14))
                state.base += state.text.utf8.count - keep.utf8.count
                state.text = String(keep)
            }
        }
    }

    /// The messages since the current thread's job began (all of them outside a job).
    static func take() -> String {
        let thread = currentThread()
        return state.withLockedValue { state in
            state.drain()
            guard let start = state.starts[thread] else {
                defer {
                    if state.starts.isEmpty {
                        state.base += state.text.utf8.count
                        state.text = ""
                    }
                }
                return state.text
            }
            let offset = max(0, start - state.base)
            let utf8 = state.text.utf8
            guard offset < utf8.count else { return "" }
            return String(Substring(utf8[utf8.index(utf8.startIndex, offsetBy: offset)...]))
        }
    }
}
