/// What `POST /api/dead/retry` and `POST /api/dead/purge` do to the dead letters they name.
enum DeadLetterChange: String, Sendable {
    /// Queued again.
    case retry
    /// Dropped for good.
    case purge
}
