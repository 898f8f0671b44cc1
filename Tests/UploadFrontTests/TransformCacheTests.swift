import Foundation
import Imaging
import NIOCore
import Testing

@testable import UploadFront

/// The transform cache's index (least recently used first, within a byte budget) and its files on disk.
@Suite struct TransformCacheTests {
    static func key(_ number: Int) -> String {
        let hex = String(number, radix: 16)
        return String(repeating: "0", count: 64 - hex.count) + hex
    }

    @Test func theLeastRecentlyUsedGoesFirstAndAUseMovesAnEntryToTheBack() {
        var index = TransformCacheIndex(budget: 300)
        #expect(index.insert("a", bytes: 100, fileExtension: "jpg").isEmpty)
        #expect(index.insert("b", bytes: 100, fileExtension: "jpg").isEmpty)
        #expect(index.insert("c", bytes: 100, fileExtension: "jpg").isEmpty)
        #expect(index.use("a") != nil)
        #expect(index.insert("d", bytes: 100, fileExtension: "webp") == [.init(key: "b", fileExtension: "jpg")])
        #expect(index.insert("e", bytes: 150, fileExtension: "jpg").map(\.key) == ["c", "a"])
        #expect(index.totalBytes == 250 && index.count == 2)
        // Larger than the whole budget: not kept, nothing else evicted.
        #expect(index.insert("f", bytes: 301, fileExtension: "jpg") == [.init(key: "f", fileExtension: "jpg")])
        #expect(index.count == 2 && !index.contains("f"))
        // Replaced in another format: the old file goes.
        #expect(index.insert("d", bytes: 100, fileExtension: "png") == [.init(key: "d", fileExtension: "webp")])
        #expect(index.totalBytes == 250)
    }

    @Test func manyUsesKeepTheOrderThroughCompaction() {
        var index = TransformCacheIndex(budget: 1000)
        for number in 0..<10 { _ = index.insert("k\(number)", bytes: 100, fileExtension: "jpg") }
        for round in 0..<500 { _ = index.use("k\(round % 9)") }
        // k9 was never used since its insertion; then k0...k8 in the order of their last use.
        let evicted = index.insert("new", bytes: 1000, fileExtension: "jpg").map(\.key)
        #expect(evicted == ["k9"] + (0..<9).map { "k\((500 + $0) % 9)" })
    }

    @Test func filesBeyondTheBudgetAreRemovedAndTheOrderIsRebuiltAtOpen() async throws {
        let storage = FileManager.default.temporaryDirectory.appendingPathComponent("cache-\(PhotoStore.newID())")
        defer { try? FileManager.default.removeItem(at: storage) }
        let bytes = ByteBuffer(repeating: 7, count: 1000)
        let cache = try await TransformCache.open(storage: storage.path, budget: 2500)
        for number in 1...3 { try await cache.write(Self.key(number), format: .jpeg, bytes: bytes) }
        #expect(cache.count == 2 && cache.totalBytes == 2000)
        #expect(await cache.read(Self.key(1)) == nil)
        #expect(!FileManager.default.fileExists(atPath: cache.file(Self.key(1), fileExtension: "jpg").path))
        #expect(FileManager.default.fileExists(atPath: cache.file(Self.key(3), fileExtension: "jpg").path))
        #expect(cache.file(Self.key(3), fileExtension: "jpg").path.hasSuffix(".transforms/00/\(Self.key(3)).jpg"))

        // Key 2 was written first: a use makes 3 the older one, on disk too.
        let past = Date().addingTimeInterval(-60)
        for number in 2...3 {
            try FileManager.default.setAttributes(
                [.modificationDate: past], ofItemAtPath: cache.file(Self.key(number), fileExtension: "jpg").path)
        }
        #expect(await cache.read(Self.key(2))?.format == .jpeg)
        let reopened = try await TransformCache.open(storage: storage.path, budget: 2500)
        #expect(reopened.count == 2)
        try await reopened.write(Self.key(4), format: .webp, bytes: bytes)
        #expect(await reopened.read(Self.key(3)) == nil)
        #expect(await reopened.read(Self.key(2))?.bytes == bytes)
        #expect(await reopened.read(Self.key(4))?.format == .webp)
    }
}
