import CofferStore
import Prometheus

/// Prometheus metrics served at `/metrics`: requests by operation and status, MFA checks by
/// outcome, and the number of devices currently throttled.
public final class CofferMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    public init() {}

    func request(operation: String, status: Int) {
        registry.makeCounter(name: "coffer_requests_total", labels: [("operation", operation), ("status", String(status))])
            .increment()
    }

    /// `passed`, `wrongCode`, `replayed`, `malformed`, `throttled`, `unknownDevice`.
    public func mfaCheck(_ outcome: String) {
        registry.makeCounter(name: "coffer_mfa_checks_total", labels: [("outcome", outcome)]).increment()
    }

    func render(store: Store, now: Int64) -> String {
        let throttled = (try? store.read { try $0.throttledDeviceCount(at: now) }) ?? 0
        registry.makeGauge(name: "coffer_mfa_throttled_devices").set(to: Double(throttled))
        return registry.emitToString()
    }
}
