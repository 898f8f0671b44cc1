import NIOCore

/// Splits a byte stream into Gearman frames. Each frame is a binary packet when its first byte is NUL and
/// an admin text line otherwise, as gearmand decides it.
///
/// No declared length is trusted: a header announcing more than `maximumPacketSize` is refused before any
/// of its body is buffered, and an admin line longer than `maximumAdminLineLength` is refused too.
public struct GearmanFrameDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    public typealias InboundOut = GearmanFrame

    public static let defaultMaximumPacketSize = 64 * 1024 * 1024
    public static let defaultMaximumAdminLineLength = 8 * 1024

    public let maximumPacketSize: Int
    public let maximumAdminLineLength: Int

    public init(
        maximumPacketSize: Int = Self.defaultMaximumPacketSize,
        maximumAdminLineLength: Int = Self.defaultMaximumAdminLineLength
    ) {
        self.maximumPacketSize = maximumPacketSize
        self.maximumAdminLineLength = maximumAdminLineLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> GearmanFrame? {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else {
            return nil
        }
        if first == 0 {
            return try decodePacket(buffer: &buffer).map(GearmanFrame.packet)
        }
        return try decodeAdminLine(buffer: &buffer).map(GearmanFrame.adminLine)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> GearmanFrame? {
        if let frame = try decode(buffer: &buffer) {
            return frame
        }
        // `printf status | nc host 4730` ends its only line with the end of the stream.
        if seenEOF, let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), first != 0 {
            var line = buffer.readSlice(length: buffer.readableBytes)!
            if line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
                line.moveWriterIndex(to: line.writerIndex - 1)
            }
            return .adminLine(line)
        }
        return nil
    }

    private func decodePacket(buffer: inout ByteBuffer) throws -> GearmanPacket? {
        let start = buffer.readerIndex
        guard
            let (rawMagic, rawType, length) = buffer.getMultipleIntegers(
                at: start, as: (UInt32, UInt32, UInt32).self)
        else {
            return nil
        }
        guard let magic = GearmanMagic(rawValue: rawMagic) else {
            throw GearmanProtocolError.invalidMagic(rawMagic)
        }
        guard let type = GearmanPacketType(rawValue: rawType) else {
            throw GearmanProtocolError.unknownPacketType(rawType)
        }
        guard length <= maximumPacketSize else {
            throw GearmanProtocolError.packetTooLarge(length, limit: maximumPacketSize)
        }
        let bodyLength = Int(length)
        guard buffer.readableBytes >= GearmanPacket.headerLength + bodyLength else {
            return nil
        }
        buffer.moveReaderIndex(forwardBy: GearmanPacket.headerLength)
        let body = buffer.readSlice(length: bodyLength)!
        return GearmanPacket(magic: magic, type: type, body: body)
    }

    private func decodeAdminLine(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > maximumAdminLineLength {
                throw GearmanProtocolError.adminLineTooLong(limit: maximumAdminLineLength)
            }
            return nil
        }
        var lineLength = newline - view.startIndex
        guard lineLength <= maximumAdminLineLength else {
            throw GearmanProtocolError.adminLineTooLong(limit: maximumAdminLineLength)
        }
        if lineLength > 0, view[newline - 1] == UInt8(ascii: "\r") {
            lineLength -= 1
        }
        let line = buffer.getSlice(at: buffer.readerIndex, length: lineLength)!
        buffer.moveReaderIndex(forwardBy: newline - view.startIndex + 1)
        return line
    }
}
