import GearmanProtocol
import NIOCore
import Testing

@testable import GearmanServer

struct JobTableTests {
    private let function = FunctionQueue(name: ByteBuffer(string: "resize"))

    private func job(_ number: UInt64) -> Job {
        Job(
            handle: JobHandle(number), function: function, unique: ByteBuffer(), workload: ByteBuffer(),
            reducer: nil, priority: .normal, runsDetached: true)
    }

    @Test func jobsAreFoundByHandleAcrossPageBoundaries() {
        var table = JobTable()
        let numbers: [UInt64] = [1, 255, 256, 257, 511, 512, 1 << 40, UInt64.max]
        for number in numbers {
            table[JobHandle(number)] = job(number)
        }
        #expect(table.count == numbers.count)
        for number in numbers {
            #expect(table[JobHandle(number)]?.handle == JobHandle(number))
        }
        for absent: UInt64 in [0, 2, 254, 258, (1 << 40) + 1, UInt64.max - 1] {
            #expect(table[JobHandle(absent)] == nil)
        }
        #expect(Set(table.entries.map(\.handle.number)) == Set(numbers))
        #expect(table.entries.allSatisfy { $0.job.handle == $0.handle })
    }

    @Test func aPageGoesWithItsLastJob() {
        var table = JobTable()
        for number in UInt64(1)...1000 {
            table[JobHandle(number)] = job(number)
        }
        #expect(table.pageCount == 4)
        for number in UInt64(1)...999 {
            #expect(table.removeValue(forKey: JobHandle(number))?.handle == JobHandle(number))
        }
        // Handle 1000 keeps its page, not the handles issued before it.
        #expect(table.pageCount == 1)
        #expect(table.count == 1)
        #expect(table.removeValue(forKey: JobHandle(1)) == nil)
        table[JobHandle(1000)] = nil
        #expect(table.isEmpty)
        #expect(table.pageCount == 0)
    }

    @Test func replacingAJobKeepsTheCount() {
        var table = JobTable()
        table[JobHandle(7)] = job(7)
        let replacement = job(7)
        table[JobHandle(7)] = replacement
        #expect(table.count == 1)
        #expect(table[JobHandle(7)] === replacement)
    }
}
