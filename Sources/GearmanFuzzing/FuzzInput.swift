/// Reads a fuzzer's bytes as a script: small numbers choose what happens next, runs of bytes become data.
/// Reads past the end yield zeros, so every input is a complete script.
package struct FuzzInput {
    private let bytes: [UInt8]
    private var position = 0

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    package var isExhausted: Bool { position >= bytes.count }

    package mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// A number in `0..<count`.
    package mutating func choose(_ count: Int) -> Int {
        Int(byte()) % count
    }

    /// Up to `limit` bytes, the count read first.
    package mutating func chunk(upTo limit: Int) -> ArraySlice<UInt8> {
        let wanted = min(Int(byte()), limit)
        let end = min(position + wanted, bytes.count)
        defer { position = end }
        return bytes[position..<end]
    }
}
