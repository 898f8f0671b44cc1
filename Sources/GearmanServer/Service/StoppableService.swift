import ServiceLifecycle

/// A `Service` that can also be stopped from outside a `ServiceGroup`: `shutdown(graceful:)` asks its `run()` to
/// return, gracefully (what is running finishes) or at once. The job server and the embedded farm are; the one
/// stop verb of the package's services.
public protocol StoppableService: Service, Sendable {
    func shutdown(graceful: Bool)
}

extension StoppableService {
    /// Runs the service as a child task while `body` runs, then shuts it down and waits until it has stopped;
    /// returns what `body` returned, or throws what it threw.
    public func withRunning<Result: Sendable>(
        shuttingDownGracefully graceful: Bool = true, _ body: () async throws -> Result
    ) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.run() }
            let outcome: Swift.Result<Result, any Error>
            do {
                outcome = .success(try await body())
            } catch {
                outcome = .failure(error)
            }
            shutdown(graceful: graceful)
            try await group.waitForAll()
            return try outcome.get()
        }
    }
}
