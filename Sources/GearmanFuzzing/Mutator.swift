/// Mutates conversations the way a broken or hostile peer would: flipped bits, inserted, deleted and
/// repeated bytes, odd values written over packet lengths and types, and pieces of two conversations spliced.
public struct Mutator {
    private var random: SplitMix64
    private let corpus: [[UInt8]]

    public init(seed: UInt64, corpus: [[UInt8]] = Conversations.all) {
        random = SplitMix64(seed: seed)
        self.corpus = corpus
    }

    public mutating func next() -> [UInt8] {
        var bytes = corpus[Int.random(in: 0..<corpus.count, using: &random)]
        for _ in 0..<Int.random(in: 1...6, using: &random) {
            mutate(&bytes)
        }
        return bytes
    }

    private mutating func mutate(_ bytes: inout [UInt8]) {
        let odd: [UInt32] = [0, 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFF0, 64 * 1024 * 1024 + 1, 12, 43]
        switch Int.random(in: 0..<8, using: &random) {
        case 0 where !bytes.isEmpty:
            let index = Int.random(in: 0..<bytes.count, using: &random)
            bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &random)
        case 1:
            let index = Int.random(in: 0...bytes.count, using: &random)
            let count = Int.random(in: 1...16, using: &random)
            bytes.insert(contentsOf: (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }, at: index)
        case 2 where !bytes.isEmpty:
            let start = Int.random(in: 0..<bytes.count, using: &random)
            let end = min(bytes.count, start + Int.random(in: 1...32, using: &random))
            bytes.removeSubrange(start..<end)
        case 3 where !bytes.isEmpty:
            let start = Int.random(in: 0..<bytes.count, using: &random)
            let end = min(bytes.count, start + Int.random(in: 1...64, using: &random))
            bytes.insert(contentsOf: bytes[start..<end], at: end)
        case 4, 5:
            // A packet header's type (offset 4) or length (offset 8), at a header-aligned position.
            guard let header = headerOffsets(bytes).randomElement(using: &random) else { return }
            let field = header + (Int.random(in: 0..<2, using: &random) == 0 ? 4 : 8)
            var value = odd.randomElement(using: &random)!
            if Int.random(in: 0..<3, using: &random) == 0 { value = UInt32.random(in: 0...64, using: &random) }
            write(value, at: field, in: &bytes)
        case 6:
            let other = corpus[Int.random(in: 0..<corpus.count, using: &random)]
            let cut = Int.random(in: 0...bytes.count, using: &random)
            let from = Int.random(in: 0...other.count, using: &random)
            bytes = Array(bytes[..<cut]) + other[from...]
        default:
            // A NUL inside an argument, or a separator removed.
            guard let index = bytes.indices.randomElement(using: &random) else { return }
            bytes[index] = bytes[index] == 0 ? UInt8(ascii: "x") : 0
        }
    }

    private func headerOffsets(_ bytes: [UInt8]) -> [Int] {
        var offsets: [Int] = []
        var offset = 0
        while offset + 12 <= bytes.count, bytes[offset] == 0 {
            offsets.append(offset)
            let length = bytes[(offset + 8)..<(offset + 12)].reduce(0) { $0 << 8 | Int($1) }
            offset += 12 + length
        }
        return offsets
    }

    private func write(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        for index in 0..<4 where offset + index < bytes.count {
            bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (24 - 8 * index))
        }
    }
}
