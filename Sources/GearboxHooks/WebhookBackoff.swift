/// The wait before the next attempt at a URL whose requests fail: it doubles with each failure from `minimum`
/// to `maximum`, and a random part of up to half of it keeps receivers that return together from being
/// retried in step.
struct WebhookBackoff: Sendable {
    let minimum: Duration
    let maximum: Duration

    init(minimum: Duration, maximum: Duration) {
        self.minimum = max(.zero, minimum)
        self.maximum = max(self.minimum, maximum)
    }

    func delay(afterFailures failures: Int) -> Duration {
        let doublings = min(max(0, failures - 1), 40)
        let ceiling = min(maximum, minimum * (1 << doublings))
        let half = ceiling / 2
        return max(minimum, half + half * Double.random(in: 0...1))
    }
}
