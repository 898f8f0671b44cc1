/// A function whose results the engine keeps (`ResultCacheConfiguration`): how long they are answered again,
/// and what its share of the `ResultCache` holds and did. It outlives its `FunctionQueue`, which a `drop
/// function` may remove and a later job make again.
final class CachedFunction {
    let name: String
    /// In whole seconds, as the engine's time is given.
    let timeToLive: Int64
    @exclusivity(unchecked) var counts = ResultCacheCounts()

    init(name: String, timeToLive: Duration) {
        self.name = name
        let (seconds, attoseconds) = timeToLive.components
        self.timeToLive = max(1, seconds + (attoseconds > 0 ? 1 : 0))
    }
}
