/// What one cached function's share of the result cache holds and did since the server started, kept by the
/// engine as plain integers and shown by the admin `cache` command and the metrics.
struct ResultCacheCounts: Hashable {
    /// Foreground submissions answered from the cache, without a worker.
    var hits = 0
    /// Foreground submissions with a unique key that found no fresh result (they queue a job or join one).
    var misses = 0
    /// Results dropped to make room for others.
    var evictions = 0
    /// Results held now; an expired one counts until it is looked up again or evicted.
    var entries = 0
    /// Their unique keys' and data's bytes.
    var bytes = 0
}
