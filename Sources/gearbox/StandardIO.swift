import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-exact standard input and output, for binary workloads and results.
enum StandardIO {
    static func readAllInput() -> ByteBuffer {
        var buffer = ByteBuffer()
        while true {
            buffer.reserveCapacity(minimumWritableBytes: 64 * 1024)
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 64 * 1024) { pointer in
                let result = read(0, pointer.baseAddress, pointer.count)
                return result > 0 ? result : 0
            }
            if count == 0 { return buffer }
        }
    }

    static func write(_ buffer: ByteBuffer, to descriptor: Int32 = 1) {
        buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    static func write(_ text: String, to descriptor: Int32 = 1) {
        write(ByteBuffer(string: text), to: descriptor)
    }

    static func error(_ text: String) {
        write(text.hasSuffix("\n") ? text : text + "\n", to: 2)
    }
}
