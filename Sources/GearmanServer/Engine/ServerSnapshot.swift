/// The engine's counts at one moment, taken under its lock for metrics to publish after it is released.
struct ServerSnapshot {
    struct Function {
        var name: String
        var counts: FunctionCounts
        /// Queued at HIGH, NORMAL and LOW.
        var queued: [Int]
        var running: Int
        var workers: Int
    }

    var functions: [Function]
    /// Each cached function's share of the result cache.
    var cachedFunctions: [(name: String, counts: ResultCacheCounts)]
    /// Connections that registered a function.
    var workerConnections: Int
    /// Clients, admin sessions and connections that have not said yet.
    var otherConnections: Int
}

extension JobServerEngine {
    func snapshot() -> ServerSnapshot {
        let workers = connections.values.count { !$0.abilities.isEmpty }
        return ServerSnapshot(
            functions: functions.values.map {
                ServerSnapshot.Function(
                    name: $0.nameString, counts: $0.counts, queued: $0.queuedCounts, running: $0.runningCount,
                    workers: $0.workerCount)
            },
            cachedFunctions: (resultCache?.cachedFunctions ?? []).map { ($0.name, $0.counts) },
            workerConnections: workers, otherConnections: connections.count - workers)
    }
}
