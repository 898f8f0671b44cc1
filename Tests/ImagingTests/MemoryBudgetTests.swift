import Testing

@testable import Imaging

/// The budget's promises: what fits is taken at once, what does not waits its turn in order of arrival, a
/// job larger than the budget runs alone, and a cancelled wait gives its place up.
@Suite struct MemoryBudgetTests {
    /// Until `count` reservations wait on `budget`, within 10 s.
    func waitUntil(_ budget: MemoryBudget, waiting count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while budget.waiting < count {
            try #require(
                ContinuousClock.now < deadline, "\(budget.waiting) of \(count) reservations waiting after 10 s")
            await Task.yield()
        }
    }

    @Test func whatDoesNotFitWaitsUntilMemoryIsGivenBack() async throws {
        let budget = MemoryBudget(bytes: 100)
        #expect(try await budget.reserve(60) == 60)
        let second = Task { try await budget.reserve(60) }
        try await waitUntil(budget, waiting: 1)
        #expect(budget.reserved == 60)
        budget.release(60)
        #expect(try await second.value == 60)
        #expect(budget.reserved == 60)
    }

    @Test func aJobLargerThanTheBudgetRunsAlone() async throws {
        let budget = MemoryBudget(bytes: 100)
        #expect(try await budget.reserve(1_000) == 100)
        #expect(budget.reserved == 100)
        budget.release(100)
        #expect(budget.reserved == 0)
    }

    @Test func waitersAreAdmittedInOrderOfArrival() async throws {
        let budget = MemoryBudget(bytes: 100)
        _ = try await budget.reserve(100)
        let large = Task { try await budget.reserve(80) }
        try await waitUntil(budget, waiting: 1)
        let small = Task { try await budget.reserve(10) }
        try await waitUntil(budget, waiting: 2)
        // Room for the small one, but not for the large one ahead of it: neither goes.
        budget.release(30)
        #expect(budget.waiting == 2)
        budget.release(70)
        #expect(try await large.value == 80)
        #expect(try await small.value == 10)
        #expect(budget.reserved == 90)
    }

    @Test func aCancelledWaitGivesItsPlaceUp() async throws {
        let budget = MemoryBudget(bytes: 100)
        _ = try await budget.reserve(90)
        let cancelled = Task { try await budget.reserve(50) }
        try await waitUntil(budget, waiting: 1)
        let next = Task { try await budget.reserve(10) }
        try await waitUntil(budget, waiting: 2)
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(try await next.value == 10)
        #expect(budget.reserved == 100)
    }
}
