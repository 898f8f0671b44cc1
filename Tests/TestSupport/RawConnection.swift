import GearmanProtocol
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP connection for tests that speak bytes to a server: exact packets, garbage, admin lines.
/// Every read gives up after `timeout` seconds, so a missing answer fails the test instead of hanging it.
public final class RawConnection {
    private let fd: Int32
    private var received = ByteBuffer()
    private var decoder = GearmanFrameDecoder()

    public init(port: Int, timeout: Int = 5) throws {
        // The descriptor is stored only once connected: a class whose initialiser throws after storing every
        // property still runs deinit, and a second close could hit a descriptor another thread just opened.
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestFailure("socket", errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            let code = errno
            close(descriptor)
            throw TestFailure("connect to port \(port)", code)
        }
        var interval = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        fd = descriptor
    }

    deinit {
        close(fd)
    }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw TestFailure("send", errno) }
            offset += written
        }
    }

    public func send(_ buffer: ByteBuffer) throws {
        try send(Array(buffer.readableBytesView))
    }

    public func send(_ request: GearmanRequest) throws {
        var buffer = ByteBuffer()
        request.encode(into: &buffer)
        try send(buffer)
    }

    public func send(line: String) throws {
        try send(Array((line + "\n").utf8))
    }

    /// Reads until `count` binary packets have arrived.
    public func receive(_ count: Int = 1) throws -> [GearmanResponse] {
        var responses: [GearmanResponse] = []
        while responses.count < count {
            if let frame = try decoder.decode(buffer: &received) {
                guard case .packet(let packet) = frame else { throw TestFailure("text where a packet was expected") }
                responses.append(try GearmanResponse(packet: packet))
            } else if try !fill() {
                throw TestFailure("connection closed after \(responses.count) of \(count) packets")
            }
        }
        return responses
    }

    /// Reads an admin reply: up to a line holding a single dot, or one line for OK/ERR replies.
    public func receiveAdminReply() throws -> String {
        while true {
            let text = String(buffer: received)
            if text.hasPrefix("OK") || text.hasPrefix("ERR") {
                if let end = received.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                    return received.readString(length: end - received.readerIndex + 1)!
                }
            } else if text == ".\n" || text.hasSuffix("\n.\n") {
                received.moveReaderIndex(forwardBy: text.utf8.count)
                return text
            }
            guard try fill() else { throw TestFailure("connection closed mid-reply: \(text.debugDescription)") }
        }
    }

    /// True once the server has closed the connection (after any bytes it still had to send).
    public func isClosedByPeer() throws -> Bool {
        while try fill() {}
        return true
    }

    /// Everything received and not yet consumed.
    public var pendingBytes: ByteBuffer { received }

    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 {
            received.writeBytes(chunk[0..<count])
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
