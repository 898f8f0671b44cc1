import CoreMetrics

/// `gearbox_webhook_deliveries_total` (events delivered), `gearbox_webhook_failures_total` (failed
/// attempts), `gearbox_webhook_dropped_total` (events dropped from the full outbox) and the gauge
/// `gearbox_webhook_outbox` (events waiting).
struct WebhookMetrics: Sendable {
    static let deliveries = "gearbox_webhook_deliveries_total"
    static let failures = "gearbox_webhook_failures_total"
    static let dropped = "gearbox_webhook_dropped_total"
    static let outbox = "gearbox_webhook_outbox"

    let deliveries: Counter
    let failures: Counter
    let dropped: Counter
    let outbox: Gauge

    init(factory: any MetricsFactory) {
        deliveries = Counter(label: Self.deliveries, factory: factory)
        failures = Counter(label: Self.failures, factory: factory)
        dropped = Counter(label: Self.dropped, factory: factory)
        outbox = Gauge(label: Self.outbox, factory: factory)
    }
}
