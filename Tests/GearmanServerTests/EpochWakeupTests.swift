import NIOCore
import Testing

@testable import GearmanServer

/// The delay before an epoch wake-up: never negative, never more than a day, never an overflow.
@Suite struct EpochWakeupTests {
    let now: Int64 = 1_800_000_000 * 1_000_000_000 + 250_000_000

    @Test func aDueOrPastEpochWakesAtOnce() {
        #expect(ServerCore.delay(until: 1_800_000_000, now: now) == .zero)
        #expect(ServerCore.delay(until: 0, now: now) == .zero)
        #expect(ServerCore.delay(until: .min, now: now) == .zero)
    }

    @Test func aNearEpochWakesOnItsSecond() {
        #expect(ServerCore.delay(until: 1_800_000_010, now: now) == .nanoseconds(9_750_000_000))
    }

    @Test func aFarEpochWakesWithinADayAndAsksAgain() {
        for epoch: Int64 in [1_800_086_401, 111_111_111_111, 253_402_300_799, .max] {
            #expect(ServerCore.delay(until: epoch, now: now) == .seconds(86_400))
        }
    }
}
