import Foundation

/// Runs blocking work (socket reads, waiting for a process) on a thread of its own, so that it does not hold
/// one of the few threads that Swift concurrency runs every test's tasks on: on a two-core machine, two
/// tests blocking there at once stall every other test in the process.
public func offThePool<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Swift.Result { try body() })
        }
        thread.start()
    }
}
