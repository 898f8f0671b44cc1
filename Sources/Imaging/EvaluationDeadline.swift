import CVips
import CVipsShim
import Dispatch
import NIOConcurrencyHelpers

/// Stops libvips' work on one job when its time limit passes. libvips checks an image's kill flag each
/// time a region of it is computed, so setting the flag on the images of a pipeline makes the saver (where
/// decoding, resampling and encoding happen) fail at its next strip, and the thread is free again. libvips
/// clears the flag when it reads it and when a new evaluation starts, so once the limit has passed the flag
/// is set again every few milliseconds until the work ends. Encoders that run after the pixels are computed
/// (AVIF's) finish their own step; the output's pixel limit bounds it.
final class EvaluationDeadline: Sendable {
    private struct State {
        /// The watched images' addresses, each with a reference held until ``finish()``.
        var images: [UInt] = []
        var fired = false
        var finished = false
    }

    let limit: Duration
    private let state = NIOLockedValueBox(State())
    private static let repeatEvery = DispatchTimeInterval.milliseconds(5)
    /// A queue of its own, which gets a thread whenever a timer is due: `DispatchQueue.global()` runs at most
    /// as many blocks at once as there are cores, for the whole process, and in a process busy with other work
    /// the timer came after the work it should have stopped had ended.
    private static let timers = DispatchQueue(label: "gearbox.imaging.time-limits")

    /// Starts the clock.
    init(limit: Duration) {
        self.limit = limit
        let nanoseconds =
            max(0, limit.components.seconds) * 1_000_000_000
            + limit.components.attoseconds / 1_000_000_000
        Self.timers.asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) { [self] in
            fire()
        }
    }

    /// Whether the limit passed before the work ended.
    var fired: Bool { state.withLockedValue { $0.fired } }

    /// Watches `image` too (an image of the pipeline that is about to be evaluated); throws at once when
    /// the limit has already passed.
    func watch(_ image: VipsImage) throws {
        gearbox_vips_image_ref(image.pointer)
        let fired = state.withLockedValue { state -> Bool in
            state.images.append(UInt(bitPattern: image.pointer))
            return state.fired
        }
        if fired { throw ImagingError.timeLimitExceeded(limit) }
    }

    /// Stops watching; call when the work is done, whether or not it succeeded.
    func finish() {
        let images = state.withLockedValue { state -> [UInt] in
            state.finished = true
            defer { state.images = [] }
            return state.images
        }
        for image in images {
            if let pointer = UnsafeMutablePointer<CVips.VipsImage>(bitPattern: image) {
                gearbox_vips_image_unref(pointer)
            }
        }
    }

    private func fire() {
        let running = state.withLockedValue { state -> Bool in
            guard !state.finished else { return false }
            state.fired = true
            for image in state.images {
                if let pointer = UnsafeMutablePointer<CVips.VipsImage>(bitPattern: image) {
                    vips_image_set_kill(pointer, 1)
                }
            }
            return true
        }
        if running {
            Self.timers.asyncAfter(deadline: .now() + Self.repeatEvery) { [self] in fire() }
        }
    }
}
