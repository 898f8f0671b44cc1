import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The lines of standard input, byte for byte and without their newlines, read on a thread of their own so
/// that a pipe that stays open (`tail -f`) blocks nobody. At most `window` lines are read ahead of the ones
/// whose work is done: each line read takes a permit, which `finished()` gives back.
final class LineReader: Sendable {
    let lines: AsyncStream<(number: Int, line: ByteBuffer)>
    private let permits: DispatchSemaphore

    init(window: Int) {
        // Made empty and filled: libdispatch traps when a semaphore is freed holding less than it started with.
        permits = DispatchSemaphore(value: 0)
        for _ in 0..<window {
            permits.signal()
        }
        let (lines, continuation) = AsyncStream<(number: Int, line: ByteBuffer)>.makeStream()
        self.lines = lines
        let permits = self.permits
        let thread = Thread {
            guard let input = fdopen(0, "r") else {
                continuation.finish()
                return
            }
            var storage: UnsafeMutablePointer<CChar>?
            var capacity = 0
            var number = 0
            defer { free(storage) }
            while true {
                permits.wait()
                let length = getline(&storage, &capacity, input)
                guard length >= 0, let storage else { break }
                var count = length
                if count > 0, storage[count - 1] == 0x0A { count -= 1 }
                if count > 0, storage[count - 1] == 0x0D { count -= 1 }
                number += 1
                let line = UnsafeRawBufferPointer(start: storage, count: count)
                continuation.yield((number, ByteBuffer(bytes: line)))
            }
            continuation.finish()
        }
        thread.start()
    }

    /// One line's work is done: another may be read.
    func finished() {
        permits.signal()
    }
}
