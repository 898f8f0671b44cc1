import CoreMetrics
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The job server's metrics, through swift-metrics (`gearbox server --metrics-port` backs them with
/// swift-prometheus). Per job, only the wait and run time histograms are recorded; the counters and gauges
/// are published from the engine's own counts when someone looks (`GearmanJobServer.publishMetrics()`),
/// which costs the job path nothing.
public final class ServerMetrics: Sendable {
    /// The labels of the metrics, as Prometheus shows them.
    public enum Name {
        public static let submitted = "gearbox_jobs_submitted_total"
        public static let completed = "gearbox_jobs_completed_total"
        public static let failed = "gearbox_jobs_failed_total"
        public static let exceptions = "gearbox_jobs_exceptions_total"
        public static let retried = "gearbox_jobs_retried_total"
        public static let queued = "gearbox_jobs_queued"
        public static let running = "gearbox_jobs_running"
        public static let workers = "gearbox_function_workers"
        public static let connections = "gearbox_connections"
        public static let waitTime = "gearbox_job_wait_seconds"
        public static let runTime = "gearbox_job_run_seconds"
        public static let storeCommit = "gearbox_store_commit_seconds"
        public static let storeBatch = "gearbox_store_batch_jobs"
        public static let storeFailures = "gearbox_store_failed_commits_total"
        public static let cacheHits = "gearbox_result_cache_hits_total"
        public static let cacheMisses = "gearbox_result_cache_misses_total"
        public static let cacheEvictions = "gearbox_result_cache_evictions_total"
        public static let cacheEntries = "gearbox_result_cache_entries"
        public static let cacheBytes = "gearbox_result_cache_bytes"
    }

    let factory: any MetricsFactory
    /// Time of each group commit of the durable store, and the jobs it wrote and deleted.
    let storeCommit: Timer
    let storeBatch: Recorder
    let storeFailures: Counter

    private struct FunctionMetrics {
        var published = FunctionCounts()
        let submitted, completed, failed, exceptions, retried: Counter
        let queued: [Gauge]
        let running, workers: Gauge

        /// Each counter with the count it publishes.
        var counters: [(Counter, KeyPath<FunctionCounts, Int>)] {
            [
                (submitted, \.submitted), (completed, \.completed), (failed, \.failed), (exceptions, \.exceptions),
                (retried, \.retried),
            ]
        }
    }

    private struct CachedFunctionMetrics {
        var published = ResultCacheCounts()
        let hits, misses, evictions: Counter
        let entries, bytes: Gauge
    }

    private struct Published {
        var functions: [String: FunctionMetrics] = [:]
        var cachedFunctions: [String: CachedFunctionMetrics] = [:]
        var connections: [String: Gauge] = [:]
    }

    private let published = NIOLockedValueBox(Published())
    /// Copies the engine's counts; set when a server binds with these metrics.
    private let source = NIOLockedValueBox<(@Sendable () -> ServerSnapshot)?>(nil)

    public init(factory: any MetricsFactory) {
        self.factory = factory
        storeCommit = Timer(label: Name.storeCommit, factory: factory)
        storeBatch = Recorder(label: Name.storeBatch, factory: factory)
        storeFailures = Counter(label: Name.storeFailures, factory: factory)
    }

    /// A clock for the per-job histograms: milliseconds, wrapping after 49 days. The coarse monotonic clock
    /// (a few nanoseconds, millisecond ticks) is read three times per job.
    func milliseconds() -> UInt32 {
        #if os(Linux)
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now)
        return UInt32(truncatingIfNeeded: Int64(now.tv_sec) &* 1000 &+ Int64(now.tv_nsec) / 1_000_000)
        #else
        return UInt32(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds / 1_000_000)
        #endif
    }

    func jobTimers(for function: String) -> JobTimers {
        JobTimers(
            waited: Timer(label: Name.waitTime, dimensions: [("function", function)], factory: factory),
            ran: Timer(label: Name.runTime, dimensions: [("function", function)], factory: factory))
    }

    func attach(_ snapshot: @escaping @Sendable () -> ServerSnapshot) {
        source.withLockedValue { $0 = snapshot }
    }

    /// Brings the counters and gauges up to date with the server's counts: call before they are read, as a
    /// scrape does. The engine's lock is held only to copy the counts.
    public func update() {
        guard let snapshot = source.withLockedValue({ $0 }) else { return }
        publish(snapshot())
    }

    /// Brings the counters and gauges up to `snapshot`: counters grow by what happened since the last call.
    func publish(_ snapshot: ServerSnapshot) {
        published.withLockedValue { published in
            var seen = Set<String>()
            for function in snapshot.functions {
                seen.insert(function.name)
                var metrics = published.functions[function.name] ?? makeFunctionMetrics(function.name)
                for (counter, count) in metrics.counters {
                    counter.increment(
                        by: Int64(max(0, function.counts[keyPath: count] - metrics.published[keyPath: count])))
                }
                metrics.published = function.counts
                for (index, gauge) in metrics.queued.enumerated() {
                    gauge.record(function.queued[index])
                }
                metrics.running.record(function.running)
                metrics.workers.record(function.workers)
                published.functions[function.name] = metrics
            }
            // A dropped function's queues are gone; its counters keep their totals.
            for (name, metrics) in published.functions where !seen.contains(name) {
                metrics.queued.forEach { $0.record(0) }
                metrics.running.record(0)
                metrics.workers.record(0)
            }
            for (name, counts) in snapshot.cachedFunctions {
                var metrics = published.cachedFunctions[name] ?? makeCachedFunctionMetrics(name)
                for (counter, count) in [
                    (metrics.hits, \ResultCacheCounts.hits), (metrics.misses, \.misses),
                    (metrics.evictions, \.evictions),
                ] {
                    counter.increment(by: Int64(max(0, counts[keyPath: count] - metrics.published[keyPath: count])))
                }
                metrics.entries.record(counts.entries)
                metrics.bytes.record(counts.bytes)
                metrics.published = counts
                published.cachedFunctions[name] = metrics
            }
            for (kind, count) in [("worker", snapshot.workerConnections), ("client", snapshot.otherConnections)] {
                let gauge =
                    published.connections[kind]
                    ?? Gauge(label: Name.connections, dimensions: [("kind", kind)], factory: factory)
                published.connections[kind] = gauge
                gauge.record(count)
            }
        }
    }

    private func makeCachedFunctionMetrics(_ name: String) -> CachedFunctionMetrics {
        let function = [("function", name)]
        return CachedFunctionMetrics(
            hits: Counter(label: Name.cacheHits, dimensions: function, factory: factory),
            misses: Counter(label: Name.cacheMisses, dimensions: function, factory: factory),
            evictions: Counter(label: Name.cacheEvictions, dimensions: function, factory: factory),
            entries: Gauge(label: Name.cacheEntries, dimensions: function, factory: factory),
            bytes: Gauge(label: Name.cacheBytes, dimensions: function, factory: factory))
    }

    private func makeFunctionMetrics(_ name: String) -> FunctionMetrics {
        let function = [("function", name)]
        return FunctionMetrics(
            submitted: Counter(label: Name.submitted, dimensions: function, factory: factory),
            completed: Counter(label: Name.completed, dimensions: function, factory: factory),
            failed: Counter(label: Name.failed, dimensions: function, factory: factory),
            exceptions: Counter(label: Name.exceptions, dimensions: function, factory: factory),
            retried: Counter(label: Name.retried, dimensions: function, factory: factory),
            queued: ["high", "normal", "low"].map {
                Gauge(label: Name.queued, dimensions: function + [("priority", $0)], factory: factory)
            },
            running: Gauge(label: Name.running, dimensions: function, factory: factory),
            workers: Gauge(label: Name.workers, dimensions: function, factory: factory))
    }
}
