import GearmanProtocol
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP connection for tests that speak bytes to a server: exact packets, garbage, admin lines.
///
/// The socket is a plain blocking one, and every call that can wait (connecting, sending, receiving) waits on
/// a thread of its own (`offThePool`), never on one of the few threads Swift concurrency runs every test's
/// tasks on: a read that waits seconds for a slow server there stalls every other test in the process, and a
/// test that polls a job's state misses it. Every send and read gives up after `timeout` seconds, so a
/// missing answer fails the test instead of hanging it. One task uses a connection at a time.
public final class RawConnection: Sendable {
    private struct Unread: Sendable {
        var bytes = ByteBuffer()
        var decoder = GearmanFrameDecoder()
    }

    private let fd: Int32
    /// What arrived and was not consumed yet; never held across a system call.
    private let unread = NIOLockedValueBox(Unread())

    public init(port: Int, timeout: Int = 5) async throws {
        fd = try await offThePool { try Self.connect(port: port, timeout: timeout) }
    }

    deinit {
        close(fd)
    }

    public func send(_ bytes: [UInt8]) async throws {
        try await offThePool { try self.sendWaiting(bytes) }
    }

    public func send(_ buffer: ByteBuffer) async throws {
        try await send(Array(buffer.readableBytesView))
    }

    public func send(_ request: GearmanRequest) async throws {
        var buffer = ByteBuffer()
        request.encode(into: &buffer)
        try await send(buffer)
    }

    public func send(line: String) async throws {
        try await send(Array((line + "\n").utf8))
    }

    /// Reads until `count` binary packets have arrived.
    public func receive(_ count: Int = 1) async throws -> [GearmanResponse] {
        try await offThePool { try self.receiveWaiting(count) }
    }

    /// Reads an admin reply: up to a line holding a single dot, or one line for OK/ERR replies.
    public func receiveAdminReply() async throws -> String {
        try await offThePool { try self.receiveAdminReplyWaiting() }
    }

    /// True once the server has closed the connection (after any bytes it still had to send).
    public func isClosedByPeer() async throws -> Bool {
        try await offThePool {
            while try self.fill() {}
            return true
        }
    }

    /// Everything received and not yet consumed.
    public var pendingBytes: ByteBuffer { unread.withLockedValue { $0.bytes } }

    // MARK: Blocking, on a thread of their own

    private static func connect(port: Int, timeout: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket", errno) }
        var interval = timeval(tv_sec: timeout, tv_usec: 0)
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            setsockopt(descriptor, SOL_SOCKET, option, &interval, socklen_t(MemoryLayout<timeval>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            let code = errno
            close(descriptor)
            throw TestFailure("connect to port \(port)", code)
        }
        return descriptor
    }

    private func sendWaiting(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else {
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw TestFailure("the peer took nothing within the timeout")
                }
                throw TestFailure("send", errno)
            }
            offset += written
        }
    }

    private func receiveWaiting(_ count: Int) throws -> [GearmanResponse] {
        var responses: [GearmanResponse] = []
        while responses.count < count {
            let frame = try unread.withLockedValue { try $0.decoder.decode(buffer: &$0.bytes) }
            if let frame {
                guard case .packet(let packet) = frame else { throw TestFailure("text where a packet was expected") }
                responses.append(try GearmanResponse(packet: packet))
            } else if try !fill() {
                throw TestFailure("connection closed after \(responses.count) of \(count) packets")
            }
        }
        return responses
    }

    private func receiveAdminReplyWaiting() throws -> String {
        while true {
            let reply: String? = unread.withLockedValue { unread in
                let text = String(buffer: unread.bytes)
                if text.hasPrefix("OK") || text.hasPrefix("ERR") {
                    guard let end = unread.bytes.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
                        return nil
                    }
                    return unread.bytes.readString(length: end - unread.bytes.readerIndex + 1)!
                } else if text == ".\n" || text.hasSuffix("\n.\n") {
                    unread.bytes.moveReaderIndex(forwardBy: text.utf8.count)
                    return text
                }
                return nil
            }
            if let reply { return reply }
            guard try fill() else {
                throw TestFailure("connection closed mid-reply: \(String(buffer: pendingBytes).debugDescription)")
            }
        }
    }

    /// Waits for bytes; false once the peer has closed the connection.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            _ = unread.withLockedValue { $0.bytes.writeBytes(chunk[0..<count]) }
            return true
        }
        if count == 0 {
            return false
        }
        if errno == EAGAIN || errno == EWOULDBLOCK {
            throw TestFailure("no answer within the timeout")
        }
        if errno == ECONNRESET {
            return false
        }
        throw TestFailure("recv", errno)
    }
}
