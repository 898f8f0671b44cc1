import Histogram

/// Job latencies in nanoseconds in an HDR histogram: three significant digits from 1 µs to an hour.
public struct LatencyRecorder: Sendable {
    public private(set) var histogram: Histogram<UInt64>

    public init() {
        histogram = Histogram(
            lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .three)
    }

    public var count: UInt64 { histogram.totalCount }

    public mutating func record(nanoseconds: UInt64) {
        _ = histogram.record(Swift.max(1, Swift.min(nanoseconds, 3_600_000_000_000)))
    }

    public mutating func add(_ other: LatencyRecorder) {
        histogram.add(other.histogram)
    }

    /// p50, p90, p99, p99.9 and max, in microseconds.
    public var summary: LatencySummary {
        guard count > 0 else { return LatencySummary() }
        func micros(_ percentile: Double) -> Double {
            Double(histogram.valueAtPercentile(percentile)) / 1000
        }
        return LatencySummary(
            p50: micros(50), p90: micros(90), p99: micros(99), p999: micros(99.9),
            max: Double(histogram.maxRecorded) / 1000)
    }
}

/// Latency percentiles in microseconds.
public struct LatencySummary: Sendable, Hashable, Codable {
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double

    public init(p50: Double = 0, p90: Double = 0, p99: Double = 0, p999: Double = 0, max: Double = 0) {
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.p999 = p999
        self.max = max
    }
}
