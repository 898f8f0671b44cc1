import CoreMetrics
import Imaging
import NIOCore

/// Image jobs by operation and output format, with their time, through swift-metrics:
/// `gearbox_image_jobs_total{operation, format, outcome}` and `gearbox_image_job_seconds{operation, format}`.
/// A refused job counts with format `none` and outcome `refused`.
public struct ImageJobMetrics: Sendable {
    public static let jobs = "gearbox_image_jobs_total"
    public static let time = "gearbox_image_job_seconds"

    let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func record(_ function: ImageFunction, format: ImageFormat?, succeeded: Bool, nanoseconds: Int64) {
        let formatName = format.map { "\($0)" } ?? (function == .info ? "json" : "none")
        let dimensions = [("operation", function.rawValue), ("format", formatName)]
        Counter(
            label: Self.jobs, dimensions: dimensions + [("outcome", succeeded ? "done" : "refused")], factory: factory
        )
        .increment()
        if succeeded {
            Timer(label: Self.time, dimensions: dimensions, factory: factory).recordNanoseconds(nanoseconds)
        }
    }
}
