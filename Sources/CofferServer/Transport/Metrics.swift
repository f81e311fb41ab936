import CofferCore
import CofferIAM
import CofferStore
import Prometheus
import Synchronization

/// Prometheus metrics served at `/metrics`: requests by operation and status, MFA checks by
/// outcome, and the number of devices currently throttled.
public final class CofferMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// Request counts are kept per thread (`PerThread`) and folded into the registry's counters
    /// when `/metrics` is read: a counter shared by the event loops would have both write the
    /// same cache line on every request. Each thread's lock is taken by that thread, and by
    /// `render` only.
    private let counts = PerThread { ThreadCounts() }
    /// What `render` has already added to the registry's counters (under `render`'s lock).
    private let folded = Mutex(Counts())

    private struct Counts {
        var requests: [RequestKey: Int] = [:]
        var inPlace = 0
        var signatures = 0
    }

    private final class ThreadCounts: Sendable {
        let state = Mutex(Counts())
    }

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

    nonisolated(unsafe) static let signIns = MetricNameDescriptor(namespace: "coffer", metricName: "console_sign_ins", unitName: "total",
                                              helpText: "Console sign-in attempts by outcome (success, wrongPassword, wrongCode, throttled, expired).")

    nonisolated(unsafe) static let securityKeys = MetricNameDescriptor(namespace: "coffer", metricName: "security_key_assertions", unitName: "total",
                                                   helpText: "Security-key registrations and sign-in assertions by outcome (registered, passed, or the refusal's reason).")

    nonisolated(unsafe) static let smsSends = MetricNameDescriptor(namespace: "coffer", metricName: "sms_sends", unitName: "total",
                                               helpText: "SMS codes asked for, by outcome (sent, failed: the delivery failed, limited: a rate limit refused it, refused: not allowed).")

    nonisolated(unsafe) static let signatures = MetricNameDescriptor(namespace: "coffer", metricName: "signature_checks", unitName: "total",
                                                 helpText: "S3 request signatures checked (SigV4, SigV2, presigned): once per signed request, whichever path answers it.")

    private let inPlaceCounter: Counter
    private let signatureCounter: Counter

    public init() {
        inPlaceCounter = registry.makeCounter(descriptor: Self.inPlace)
        signatureCounter = registry.makeCounter(descriptor: Self.signatures)
    }

    /// A request answered in place (`request`, and the in-place count, under one lock).
    func inPlaceRead(operation: String, status: Int) {
        counts.value.state.withLock {
            $0.requests[RequestKey(operation: operation, status: status), default: 0] += 1
            $0.inPlace += 1
        }
    }

    func signatureChecked() { counts.value.state.withLock { $0.signatures += 1 } }

    func request(operation: String, status: Int) {
        counts.value.state.withLock { $0.requests[RequestKey(operation: operation, status: status), default: 0] += 1 }
    }

    /// Adds what the threads counted since the last call to the registry's counters.
    private func fold() {
        var total = Counts()
        for thread in counts.all {
            thread.state.withLock { state in
                total.requests.merge(state.requests, uniquingKeysWith: +)
                total.inPlace += state.inPlace
                total.signatures += state.signatures
            }
        }
        folded.withLock { folded in
            for (key, count) in total.requests where count > folded.requests[key, default: 0] {
                registry.makeCounter(descriptor: Self.requests,
                                     labels: [("operation", key.operation), ("status", String(key.status))])
                    .increment(by: Int64(count - folded.requests[key, default: 0]))
                folded.requests[key] = count
            }
            if total.inPlace > folded.inPlace {
                inPlaceCounter.increment(by: Int64(total.inPlace - folded.inPlace))
                folded.inPlace = total.inPlace
            }
            if total.signatures > folded.signatures {
                signatureCounter.increment(by: Int64(total.signatures - folded.signatures))
                folded.signatures = total.signatures
            }
        }
    }

    /// Labelled with the outcome's raw value: `passed`, `wrongCode`, `replayed`, `malformed`,
    /// `throttled`, `unknownDevice`, `notAssigned`.
    public func mfaCheck(_ outcome: DeviceVerifier.CheckOutcome) {
        registry.makeCounter(descriptor: Self.mfaChecks, labels: [("outcome", outcome.rawValue)]).increment()
    }

    func smsSend(_ outcome: String) {
        registry.makeCounter(descriptor: Self.smsSends, labels: [("outcome", outcome)]).increment()
    }

    func securityKey(_ outcome: String) {
        registry.makeCounter(descriptor: Self.securityKeys, labels: [("outcome", outcome)]).increment()
    }

    func consoleSignIn(_ outcome: Registry.SignInOutcome) {
        registry.makeCounter(descriptor: Self.signIns, labels: [("outcome", outcome.rawValue)]).increment()
    }

    func render(store: Store, now: Int64) async -> String {
        let throttled = (try? await store.asyncRead { try $0.throttledDeviceCount(at: now) }) ?? 0
        registry.makeGauge(descriptor: Self.throttled).set(to: Double(throttled))
        fold()
        return registry.emitToString()
    }
}
