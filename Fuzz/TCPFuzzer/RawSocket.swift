#if canImport(Glibc)
import Glibc
#endif

/// Blocking loopback sockets with timeouts on every call: the fuzzer never waits without a limit.
enum RawSocket {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Sends `bytes` in up to three writes, reads what comes back for a moment, and closes.
    static func exchange(_ bytes: [UInt8], port: Int) {
        guard let fd = connect(port: port, timeoutMilliseconds: 20) else { return }
        defer { close(fd) }
        var offset = 0
        let step = max(1, bytes.count / 3)
        while offset < bytes.count {
            let end = min(bytes.count, offset + step)
            let written = bytes[offset..<end].withUnsafeBytes {
                send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { return }
            offset += written
        }
        var sink = [UInt8](repeating: 0, count: 65536)
        _ = sink.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Whether a fresh connection to an HTTP port gets a status line for a request within two seconds.
    static func answersHTTP(port: Int) -> Bool {
        guard let fd = connect(port: port, timeoutMilliseconds: 2000) else { return false }
        defer { close(fd) }
        let request = Array("POST / HTTP/1.1\r\nHost: fuzz\r\nContent-Length: 0\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count
        else {
            return false
        }
        var chunk = [UInt8](repeating: 0, count: 256)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count >= 12 && chunk.starts(with: Array("HTTP/1.".utf8))
    }

    /// Whether a fresh connection gets ECHO_RES for its ECHO_REQ within two seconds.
    static func echoes(port: Int) -> Bool {
        guard let fd = connect(port: port, timeoutMilliseconds: 2000) else { return false }
        defer { close(fd) }
        let payload = Array("alive".utf8)
        let request: [UInt8] = [0, 0x52, 0x45, 0x51, 0, 0, 0, 16, 0, 0, 0, UInt8(payload.count)] + payload
        let expected: [UInt8] = [0, 0x52, 0x45, 0x53, 0, 0, 0, 17, 0, 0, 0, UInt8(payload.count)] + payload
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count
        else {
            return false
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while received.count < expected.count {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            received += chunk[0..<count]
        }
        return Array(received.prefix(expected.count)) == expected
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket failed") }
        defer { close(fd) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw Failure("bind failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func connect(port: Int, timeoutMilliseconds: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var interval = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            close(fd)
            return nil
        }
        return fd
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return address
    }
}
