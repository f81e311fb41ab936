import CofferStore
import Foundation
import TOTP

/// The one verifier every code goes through: `x-amz-mfa`, EnableMFADevice, ResyncMFADevice,
/// GetSessionToken. It reads and writes the device's state inside the caller's transaction, so a
/// consumed step commits together with the operation it authorizes — or not at all.
///
/// Policy:
/// - a code is checked at ±1 step around now and around now + the device's learned drift, and
///   accepted only for a step newer than the last accepted one (single use, durable);
/// - enable and resync look for two consecutive codes within ±`pairWindow` steps, and set drift
///   (bounded by ±`maxDrift`); nothing else changes drift;
/// - wrong codes are throttled per device: 5 per time step are judged normally; the 6th wrong
///   code in a step starts a back-off of 1 s, doubling per back-off up to 5 minutes; during a
///   back-off codes are refused unjudged (and do not extend it); a success resets everything.
///   Malformed codes and replays never count.
public struct DeviceVerifier: Sendable {
    public let masterKey: MasterKey
    /// Milliseconds since 1970.
    public let now: @Sendable () -> Int64
    public static let window = 1
    public static let pairWindow = 20        // ±10 minutes at 30 s steps
    public static let maxDrift: Int64 = 20
    public static let freeFailuresPerStep = 5
    public static let maxBackoffSeconds: Int64 = 300

    /// Told the outcome of every check, for metrics.
    public let observe: @Sendable (CheckOutcome) -> Void

    public init(masterKey: MasterKey, now: @escaping @Sendable () -> Int64,
                observe: @escaping @Sendable (CheckOutcome) -> Void = { _ in }) {
        self.masterKey = masterKey
        self.now = now
        self.observe = observe
    }

    /// Why a check failed. The message never contains the code.
    public enum Failure: Error, Equatable, Sendable {
        case malformed
        case unknownDevice
        case notAssigned
        case wrongCode
        case replayed
        case throttled
        /// The serial names a security key: it signs WebAuthn challenges, never codes.
        case securityKey
        /// The serial names an SMS device: its codes are sent on request, for console sign-in
        /// only; they never sign an API call.
        case smsDevice

        public var outcome: CheckOutcome {
            switch self {
            case .malformed: .malformed
            case .unknownDevice: .unknownDevice
            case .notAssigned: .notAssigned
            case .wrongCode: .wrongCode
            case .replayed: .replayed
            case .throttled: .throttled
            case .securityKey: .securityKey
            case .smsDevice: .smsDevice
            }
        }
    }

    /// Every check's outcome. The raw values are the `outcome` label of
    /// `coffer_mfa_checks_total` (dashboards and alert rules read them): never renamed.
    public enum CheckOutcome: String, Sendable, CaseIterable {
        case passed, malformed, unknownDevice, notAssigned, wrongCode, replayed, throttled, securityKey, smsDevice
    }

    /// A failed check with what must be remembered about it after the caller's transaction
    /// rolls back: `MFAFailureRecorder` writes it in the same transaction, before any other write.
    public struct CheckError: Error, Sendable {
        public var failure: Failure
        public var serial: String
        /// Whether the failure counts toward the throttle (a judged wrong code).
        public var counts: Bool
        public var audit: AuditRecord
    }

    /// Who is checking what, for the audit log.
    public struct Context: Sendable {
        public var event: String
        public var principal: String
        public var source: String?
        public var requestID: String?
        public init(event: String, principal: String, source: String?, requestID: String?) {
            self.event = event
            self.principal = principal
            self.source = source
            self.requestID = requestID
        }
    }

    /// Checks one code for `serial`, which must be enabled for `user`. On success the step is
    /// consumed in `transaction` and an audit entry written there; on failure a `CheckError`.
    @discardableResult
    public func check(serial: String, code: String, user: String, context: Context,
                      in transaction: StoreTransaction) throws -> Int64 {
        let time = now()
        let found = try transaction.device(serial)
        // An SMS serial is refused for what it is, whoever's it is (its serial says `sms-mfa` anyway):
        // MFA Delete names the root's devices, and the root never has one.
        if found?.kind == .sms, found?.userName != nil {
            throw checkError(.smsDevice, serial: serial, time: time, context: context)
        }
        guard let device = found, device.userName == user else {
            throw checkError(.unknownDevice, serial: serial, time: time, context: context)
        }
        guard device.kind != .securityKey else { throw checkError(.securityKey, serial: serial, time: time, context: context) }
        let parameters = try self.parameters(of: device)
        if device.throttledUntil > time {
            throw checkError(.throttled, serial: serial, time: time, context: context)
        }
        switch TOTPVerifier.verify(code: code, parameters: parameters, at: time / 1000, window: Self.window,
                                   drift: device.drift, lastAcceptedStep: device.lastStep) {
        case .accepted(let step):
            var updated = device
            updated.lastStep = step
            Self.resetThrottle(&updated)
            try transaction.updateDevice(updated)
            try transaction.appendAudit(audit(context, .passed, serial: serial, time: time))
            report(.passed)
            return step
        case .rejected(.malformed):
            throw checkError(.malformed, serial: serial, time: time, context: context)
        case .rejected(.replayed):
            throw checkError(.replayed, serial: serial, time: time, context: context)
        case .rejected(.noMatch):
            throw checkError(.wrongCode, serial: serial, time: time, context: context, counts: true)
        }
    }

    /// Tells `observe` of one judged code once its transaction has settled: a cluster's transaction
    /// that lost a conflict judges the code again, and `coffer_mfa_checks_total` counts it once.
    func report(_ outcome: CheckOutcome) {
        let observe = observe
        Settled.run { observe(outcome) }
    }

    /// Enable / resync: two consecutive codes. Returns the updated device (assignment is the
    /// caller's business) with drift and last step set; does not write it.
    public func checkPair(device: DeviceRecord, first: String, second: String, context: Context) throws -> DeviceRecord {
        let time = now()
        guard device.kind != .securityKey else {
            throw checkError(.securityKey, serial: device.serial, time: time, context: context)
        }
        guard device.kind != .sms else { throw checkError(.smsDevice, serial: device.serial, time: time, context: context) }
        let parameters = try self.parameters(of: device)
        if device.throttledUntil > time {
            throw checkError(.throttled, serial: device.serial, time: time, context: context)
        }
        switch TOTPVerifier.verifyConsecutive(first: first, second: second, parameters: parameters, at: time / 1000,
                                              window: Self.pairWindow, lastAcceptedStep: device.lastStep) {
        case .accepted(_, let second):
            var updated = device
            updated.lastStep = second
            updated.drift = max(-Self.maxDrift, min(Self.maxDrift, second - parameters.step(at: time / 1000)))
            Self.resetThrottle(&updated)
            report(.passed)
            return updated
        case .rejected(.malformed):
            throw checkError(.malformed, serial: device.serial, time: time, context: context)
        case .rejected(.replayed):
            throw checkError(.replayed, serial: device.serial, time: time, context: context)
        case .rejected(.noMatch):
            throw checkError(.wrongCode, serial: device.serial, time: time, context: context, counts: true)
        }
    }

    /// The TOTP parameters of a device, its seed opened with the master key.
    public func parameters(of device: DeviceRecord) throws -> TOTPParameters {
        let seed = try masterKey.open(device.sealedSeed, context: device.serial)
        return try TOTPParameters(secret: seed, algorithm: OTPAlgorithm(name: device.algorithm) ?? .sha1,
                                  digits: device.digits, period: device.period)
    }

    /// Applies one judged wrong code to the throttle state.
    public static func registerFailure(_ device: inout DeviceRecord, at time: Int64) {
        let step = time / 1000 / max(1, device.period)
        if device.windowStep != step {
            device.windowStep = step
            device.windowFailures = 0
        }
        device.windowFailures += 1
        device.failures += 1
        if device.windowFailures > freeFailuresPerStep {
            let delay = min(Int64(1) << Int64(min(device.backoffs, 20)), maxBackoffSeconds)
            device.backoffs += 1
            device.throttledUntil = time + delay * 1000
        }
    }

    static func resetThrottle(_ device: inout DeviceRecord) {
        device.failures = 0
        device.windowFailures = 0
        device.backoffs = 0
        device.throttledUntil = 0
    }

    func audit(_ context: Context, _ outcome: AuditOutcome, serial: String, time: Int64, detail: String? = nil) -> AuditRecord {
        AuditRecord(time: time, event: context.event, outcome: outcome, principal: context.principal, serial: serial,
                    source: context.source, requestID: context.requestID, detail: detail)
    }

    func checkError(_ failure: Failure, serial: String, time: Int64, context: Context, counts: Bool = false) -> CheckError {
        report(failure.outcome)
        let reason: String
        switch failure {
        case .malformed: reason = "malformed code"
        case .unknownDevice: reason = "not an enabled device of this user"
        case .notAssigned: reason = "device not assigned"
        case .wrongCode: reason = "wrong code"
        case .replayed: reason = "code already used"
        case .throttled: reason = "throttled"
        case .securityKey: reason = "a security key cannot give codes: use a virtual or hardware TOTP device"
        case .smsDevice: reason = "an SMS device's codes serve console sign-in only: use a virtual or hardware TOTP device"
        }
        return CheckError(failure: failure, serial: serial, counts: counts,
                          audit: audit(context, .failed, serial: serial, time: time, detail: reason))
    }
}

/// Runs a write that may check a code. When the check fails, the write rolls back (nothing of the
/// operation happens, no step is consumed) and the failure — its audit entry and, for a judged
/// wrong code, the throttle counters — is written in the same transaction, before any other write
/// runs: the next check, concurrent or not, in this process or another sharing the folder, sees
/// the count. A burst of wrong codes is judged exactly as the same codes sent one by one.
public enum MFAFailureRecorder {
    @discardableResult
    public static func write<T: Sendable>(_ store: Store, _ body: @escaping @Sendable (StoreTransaction) throws -> T,
                                          recordAlso: (@Sendable (any Error, StoreTransaction) throws -> Void)? = nil)
        async throws -> T {
        try await store.write(body) { error, transaction in
            if let error = error as? DeviceVerifier.CheckError { try record(error, in: transaction) }
            try recordAlso?(error, transaction)
        }
    }

    static func record(_ error: DeviceVerifier.CheckError, in transaction: StoreTransaction) throws {
        if error.counts, var device = try transaction.device(error.serial) {
            DeviceVerifier.registerFailure(&device, at: error.audit.time)
            try transaction.updateDevice(device)
        }
        try transaction.appendAudit(error.audit)
    }
}
