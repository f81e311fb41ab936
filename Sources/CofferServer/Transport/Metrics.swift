import CofferMFA
import CofferStore
import Prometheus
import Synchronization

/// Prometheus metrics served at `/metrics`: requests by operation and status, MFA checks by
/// outcome, and the number of devices currently throttled.
public final class CofferMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// The registry takes one lock per lookup; counters, once made, increment atomically. The
    /// request path keeps its own map so the event loops do not queue on the registry's lock.
    private let requestCounters = Mutex<[RequestKey: Counter]>([:])

    private struct RequestKey: Hashable {
        var operation: String
        var status: Int
    }

    // Immutable values; the type predates Sendable annotations.
    nonisolated(unsafe) static let requests = MetricNameDescriptor(namespace: "coffer", metricName: "requests", unitName: "total",
                                               helpText: "Requests by operation and HTTP status.")
    nonisolated(unsafe) static let mfaChecks = MetricNameDescriptor(namespace: "coffer", metricName: "mfa_checks", unitName: "total",
                                                helpText: "MFA code checks by outcome.")
    nonisolated(unsafe) static let inPlace = MetricNameDescriptor(namespace: "coffer", metricName: "in_place_reads", unitName: "total",
                                              helpText: "GET and HEAD requests answered in the channel pipeline (also counted in coffer_requests_total).")
    nonisolated(unsafe) static let throttled = MetricNameDescriptor(namespace: "coffer", metricName: "mfa_throttled", unitName: "devices",
                                                helpText: "MFA devices currently refusing codes after too many wrong ones.")

    private let inPlaceCounter: Counter

    public init() {
        inPlaceCounter = registry.makeCounter(descriptor: Self.inPlace)
    }

    func inPlaceRead() { inPlaceCounter.increment() }

    func request(operation: String, status: Int) {
        let key = RequestKey(operation: operation, status: status)
        if let counter = requestCounters.withLock({ $0[key] }) {
            counter.increment()
            return
        }
        let counter = registry.makeCounter(descriptor: Self.requests,
                                           labels: [("operation", operation), ("status", String(status))])
        requestCounters.withLock { $0[key] = counter }
        counter.increment()
    }

    /// Labelled with the outcome's raw value: `passed`, `wrongCode`, `replayed`, `malformed`,
    /// `throttled`, `unknownDevice`, `notAssigned`.
    public func mfaCheck(_ outcome: DeviceVerifier.CheckOutcome) {
        registry.makeCounter(descriptor: Self.mfaChecks, labels: [("outcome", outcome.rawValue)]).increment()
    }

    func render(store: Store, now: Int64) -> String {
        let throttled = (try? store.read { try $0.throttledDeviceCount(at: now) }) ?? 0
        registry.makeGauge(descriptor: Self.throttled).set(to: Double(throttled))
        return registry.emitToString()
    }
}
