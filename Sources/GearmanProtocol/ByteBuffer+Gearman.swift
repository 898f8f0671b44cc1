import NIOCore

extension ByteBuffer {
    /// Writes one packet: the header, then whatever `writeBody` writes, then patches the header's length.
    @inlinable
    public mutating func writeGearmanPacket(
        _ magic: GearmanMagic,
        _ type: GearmanPacketType,
        body writeBody: (inout ByteBuffer) -> Void = { _ in }
    ) {
        let start = writerIndex
        writeMultipleIntegers(magic.rawValue, type.rawValue, UInt32(0))
        let bodyStart = writerIndex
        writeBody(&self)
        setInteger(UInt32(writerIndex - bodyStart), at: start + 8)
    }

    /// Writes a NUL-terminated argument.
    @inlinable
    public mutating func writeGearmanArgument(_ argument: ByteBuffer) {
        writeImmutableBuffer(argument)
        writeInteger(UInt8(0))
    }

    /// Writes a NUL-terminated argument.
    @inlinable
    public mutating func writeGearmanArgument(_ argument: String) {
        writeString(argument)
        writeInteger(UInt8(0))
    }

    /// Writes a NUL-terminated decimal number.
    @inlinable
    public mutating func writeGearmanArgument<Number: BinaryInteger>(number: Number) {
        writeString(String(number))
        writeInteger(UInt8(0))
    }
}
