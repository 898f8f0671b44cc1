/// Durations counted in buckets a power of two of milliseconds wide (bucket 0 holds 0 ms, bucket b holds
/// 2^(b-1) up to 2^b - 1 ms), so that the dashboard can show percentiles at a fixed cost per function.
struct LatencyBuckets {
    private var counts = [UInt32](repeating: 0, count: 33)
    private(set) var total: UInt64 = 0

    mutating func record(milliseconds: UInt32) {
        let bucket = milliseconds == 0 ? 0 : UInt32.bitWidth - milliseconds.leadingZeroBitCount
        counts[bucket] &+= 1
        total += 1
    }

    /// The upper bound, in milliseconds, of the bucket that holds the given fraction of the durations; nil
    /// before any was recorded.
    func percentile(_ fraction: Double) -> Double? {
        guard total > 0 else { return nil }
        let rank = UInt64((Double(total) * fraction).rounded(.up))
        var seen: UInt64 = 0
        for (bucket, count) in counts.enumerated() {
            seen += UInt64(count)
            if seen >= max(1, rank) {
                return bucket == 0 ? 0 : Double((UInt64(1) << bucket) - 1)
            }
        }
        return Double(UInt32.max)
    }

    var percentiles: OperatorOverview.Percentiles? {
        guard let p50 = percentile(0.5), let p90 = percentile(0.9), let p99 = percentile(0.99) else { return nil }
        return OperatorOverview.Percentiles(p50: p50, p90: p90, p99: p99)
    }
}
