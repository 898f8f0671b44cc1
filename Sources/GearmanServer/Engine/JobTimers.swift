import CoreMetrics

/// One function's histograms of how long its jobs waited in the queue and ran on a worker: swift-metrics
/// timers for Prometheus, and buckets the engine keeps itself for the dashboard's percentiles.
final class JobTimers {
    let waited: Timer
    let ran: Timer
    @exclusivity(unchecked) var waitBuckets = LatencyBuckets()
    @exclusivity(unchecked) var runBuckets = LatencyBuckets()

    init(waited: Timer, ran: Timer) {
        self.waited = waited
        self.ran = ran
    }

    func recordWait(milliseconds: UInt32) {
        waited.recordMilliseconds(milliseconds)
        waitBuckets.record(milliseconds: milliseconds)
    }

    func recordRun(milliseconds: UInt32) {
        ran.recordMilliseconds(milliseconds)
        runBuckets.record(milliseconds: milliseconds)
    }
}
