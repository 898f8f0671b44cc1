import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the NUL-separated arguments of a packet body as slices: no bytes are copied. Shared by the request
/// and response decoders and the load generator.
public struct GearmanArgumentReader {
    private var body: ByteBuffer
    private let type: GearmanPacketType
    private let expected: Int
    private var found = 0

    /// `expected` counts every argument, the last (unterminated) one included.
    public init(_ body: ByteBuffer, type: GearmanPacketType, expected: Int) {
        self.body = body
        self.type = type
        self.expected = expected
    }

    /// The next NUL-terminated argument.
    public mutating func next() throws -> ByteBuffer {
        let length = body.withUnsafeReadableBytes { bytes -> Int? in
            guard let base = bytes.baseAddress, let nul = memchr(base, 0, bytes.count) else { return nil }
            return base.distance(to: UnsafeRawPointer(nul))
        }
        guard let length else {
            throw GearmanProtocolError.missingArguments(type, expected: expected, found: found + 1)
        }
        let argument = body.readSlice(length: length)!
        body.moveReaderIndex(forwardBy: 1)
        found += 1
        return argument
    }

    /// The last argument: everything that is left, NUL bytes included.
    public mutating func rest() -> ByteBuffer {
        body.readSlice(length: body.readableBytes)!
    }

    /// A decimal number argument, NUL-terminated unless it is the last.
    mutating func nextNumber<Number: FixedWidthInteger>(_: Number.Type, named name: String, last: Bool = false) throws
        -> Number
    {
        let argument = last ? rest() : try next()
        guard let value = Number(decimal: argument) else {
            throw GearmanProtocolError.invalidNumber(type, argument: name)
        }
        return value
    }

    /// A decimal number argument that must lie in `range`.
    mutating func nextNumber<Number: FixedWidthInteger>(
        _ type: Number.Type, named name: String, in range: ClosedRange<Number>, last: Bool = false
    ) throws -> Number {
        let value = try nextNumber(type, named: name, last: last)
        guard range.contains(value) else {
            throw GearmanProtocolError.numberOutOfRange(self.type, argument: name, range: "\(range)")
        }
        return value
    }
}

extension FixedWidthInteger {
    /// Parses ASCII decimal digits, with an optional leading `-` for signed types.
    public init?(decimal buffer: ByteBuffer) {
        let bytes = buffer.readableBytesView
        guard !bytes.isEmpty else { return nil }
        var index = bytes.startIndex
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            guard Self.isSigned else { return nil }
            negative = true
            index += 1
            guard index < bytes.endIndex else { return nil }
        }
        var value: Self = 0
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let digit = Self(byte - UInt8(ascii: "0"))
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) =
                negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { return nil }
            value = next
            index += 1
        }
        self = value
    }
}
