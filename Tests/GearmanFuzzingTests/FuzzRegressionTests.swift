import Foundation
import GearmanEngineFuzzing
import GearmanFuzzing
import TestSupport
import Testing

/// The fuzz targets as plain tests: every input that once crashed one of them (Fuzz/Regressions), and a
/// fixed sample of mutated conversations, each of which must pass through without a trap or a broken
/// invariant. `make fuzz` runs the same targets under libFuzzer.
@Suite struct FuzzRegressionTests {
    static func regressions(_ target: String) -> [URL] {
        let folder = packageRoot.appendingPathComponent("Fuzz/Regressions/\(target)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().map { folder.appendingPathComponent($0) }
    }

    @Test func everyEngineRegressionPasses() throws {
        let inputs = Self.regressions("engine")
        #expect(!inputs.isEmpty)
        for input in inputs {
            EngineFuzzer.run(Array(try Data(contentsOf: input)))
        }
    }

    /// The corpus a guided run kept (Fuzz/Seeds/README.md): the engine's short pass in `make test`.
    @Test func everyInputOfTheEngineCorpusPasses() throws {
        let folder = packageRoot.appendingPathComponent("Fuzz/Seeds/engine")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(names.count > 1_000)
        for name in names.sorted() {
            EngineFuzzer.run(Array(try Data(contentsOf: folder.appendingPathComponent(name))))
        }
    }

    @Test func everyProtocolRegressionPasses() throws {
        for input in Self.regressions("protocol") {
            ProtocolFuzzer.run(Array(try Data(contentsOf: input)))
        }
    }

    @Test func everyMetadataRegressionAndSeedPasses() throws {
        let seeds = packageRoot.appendingPathComponent("Fuzz/Seeds/metadata")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: seeds.path)) ?? []
        #expect(!names.isEmpty)
        for input in names.sorted().map({ seeds.appendingPathComponent($0) }) + Self.regressions("metadata") {
            MetadataFuzzer.run(Array(try Data(contentsOf: input)))
        }
    }

    @Test func mutatedConversationsPassBothTargets() {
        var mutator = Mutator(seed: 42)
        for _ in 0..<2_000 {
            let input = mutator.next()
            ProtocolFuzzer.run(input)
            EngineFuzzer.run(input)
        }
    }

    @Test func theSameSeedMutatesTheSameWay() {
        var first = Mutator(seed: 7)
        var second = Mutator(seed: 7)
        var other = Mutator(seed: 8)
        let a = (0..<50).map { _ in first.next() }
        #expect(a == (0..<50).map { _ in second.next() })
        #expect(a != (0..<50).map { _ in other.next() })
    }
}
