import CoreMetrics

/// One function's histograms of how long its jobs waited in the queue and ran on a worker.
struct JobTimers {
    let waited: Timer
    let ran: Timer
}
