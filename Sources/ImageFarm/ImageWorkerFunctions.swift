import Gearman
import Imaging
import NIOCore

/// Offers image functions on a `GearmanWorker`.
public enum ImageWorkerFunctions {
    /// Workloads above this size report progress with WORK_STATUS: decoding them takes a noticeable while.
    public static let progressThreshold = 1_000_000

    /// Registers each function with the worker. A refused image or a bad options line ends that job with
    /// WORK_EXCEPTION carrying the reason (WORK_FAIL for clients that did not ask for exceptions); the
    /// worker keeps serving.
    public static func register(_ functions: [ImageFunction], on worker: GearmanWorker, runner: ImageFunctionRunner) {
        for function in functions {
            worker.register(function.rawValue) { job in
                let reportsProgress = job.workload.readableBytes > progressThreshold
                if reportsProgress {
                    try await job.sendStatus(numerator: 0, denominator: 2)
                }
                let result = try await runner.run(function, workload: job.workload)
                if reportsProgress {
                    try await job.sendStatus(numerator: 1, denominator: 2)
                }
                return ByteBuffer(bytes: result.bytes)
            }
        }
    }
}
