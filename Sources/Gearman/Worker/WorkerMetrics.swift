import CoreMetrics

/// A worker's jobs through swift-metrics: `gearbox_worker_jobs_total{function, outcome}` (outcome `complete`,
/// `fail` or `exception`) and `gearbox_worker_job_seconds{function}`, their run time as the worker saw it.
public struct WorkerMetrics: Sendable {
    public static let jobs = "gearbox_worker_jobs_total"
    public static let time = "gearbox_worker_job_seconds"

    let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func record(function: String, outcome: String, nanoseconds: Int64) {
        Counter(label: Self.jobs, dimensions: [("function", function), ("outcome", outcome)], factory: factory)
            .increment()
        Timer(label: Self.time, dimensions: [("function", function)], factory: factory).recordNanoseconds(nanoseconds)
    }
}
